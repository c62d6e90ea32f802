"""Local help travels as its own published objects: a changed phone number is one new object."""

from __future__ import annotations

from datetime import date

from app.distribution import signing
from app.distribution.publish import publish
from app.distribution.root import load_root
from app.distribution.sync import sync
from app.distribution.trust import describe

from .helpers import HSDS_30, write_place

TODAY = date(2026, 12, 1)


def test_one_changed_phone_number_publishes_and_syncs_exactly_one_object(
    content_dir, sign_bundle, publisher, kiosk, tmp_path
):
    write_place(content_dir)
    first = sign_bundle(content_dir, tmp_path / "v1.bundle", version=1)
    phones = content_dir / "places" / "testville" / "services" / "phones.csv"
    phones.write_text(HSDS_30["phones.csv"].replace("030 23125 001", "030 23125 009"), encoding="utf-8")
    second = sign_bundle(content_dir, tmp_path / "v2.bundle", version=2)
    key, key_id = signing.load_secret(publisher.secret)
    root = load_root(publisher.root.read_bytes())
    hub = tmp_path / "hub"
    counts = publish(first, hub, key, key_id, root, TODAY)
    assert counts["written"] == counts["objects"]
    assert sync(kiosk, str(hub), TODAY) is not None
    counts = publish(second, hub, key, key_id, root, TODAY)
    assert counts["written"] == 1
    planned: list[int] = []
    info = sync(kiosk, str(hub), TODAY, on_plan=lambda n, size: planned.append(n))
    assert info is not None and info.version == 2
    assert planned == [1]  # the kiosk downloads only the changed service's object
    assert describe(kiosk.live).content_digest == describe(second).content_digest
