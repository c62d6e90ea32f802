"""Getting a bundle to a kiosk and trusting it: signing, the trust root,
verification, import and rollback, hubs (`publish`) and `sync`."""
