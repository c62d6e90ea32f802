"""The bundle: one SQLite file. `schema` defines it, `build` writes it,
`read` and `search` are all the web layer may use of it."""
