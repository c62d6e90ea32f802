"""Turn checked remittance corridors into the bundle's `remit_*` rows.

Providers are stored for the newest survey of each corridor only, already
ranked; the corridor's averages are stored for every quarter (the trend).
Decimals are written as text: published values exactly as read, averages to
ten places (far below the two places shown, so the one rounding stays the
one on the page).
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app import remittance_method as method
from app.content.remittances import Corridor, Remittances

PLACES = Decimal("1E-10")


def period_text(period: tuple[int, int]) -> str:
    """Return a quarter as the bundle writes it: `2025Q1`."""
    return f"{period[0]}Q{period[1]}"


def ranked(services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return services best first: by what arrives for the USD 200 amount, fee included, then by total cost."""

    def key(s: dict[str, Any]) -> tuple:
        arrives = method.arrives_for(s["cc1_amount"], s["cc1_fee"], s["cc1_rate"])
        return (-arrives, s["cc1_total"], s["firm"], s["payment_instrument"], s["pickup_method"])

    return sorted(services, key=key)


def remittance_rows(found: Remittances | None) -> dict[str, list[dict[str, Any]]]:
    """Return the rows of the `remit_*` tables (empty without remittance data)."""
    rows: dict[str, list[dict[str, Any]]] = {"remit_source": [], "remit_corridors": [], "remit_costs": []}
    rows["remit_services"] = []
    if found is None:
        return rows
    source = {
        **found.source,
        "taken": found.source["taken"].isoformat(),
        "sample": "1" if found.source["sample"] else "",
    }
    rows["remit_source"] = [{"key": k, "value": str(v)} for k, v in sorted(source.items())]
    for corridor in found.corridors:
        rows["remit_corridors"].append(_corridor_row(corridor))
        for (period, amount), cost in sorted(corridor.costs.items()):
            exact = cost.quantize(PLACES, rounding=ROUND_HALF_UP).normalize()
            rows["remit_costs"].append(
                {"corridor": corridor.key, "period": period_text(period), "amount": amount, "cost": f"{exact:f}"}
            )
        for position, s in enumerate(ranked(corridor.services), start=1):
            rows["remit_services"].append(_service_row(corridor.key, position, s))
    return rows


def _corridor_row(c: Corridor) -> dict[str, Any]:
    return {
        "corridor": c.key, "source_code": c.source_code, "destination_code": c.destination_code,
        "source_name": c.source_name, "destination_name": c.destination_name,
        "source_territory": c.source_territory, "destination_territory": c.destination_territory,
        "send_currency": c.send_currency, "receive_currency": c.receive_currency,
        "newest": period_text(c.newest) if c.newest else "", "flags": json.dumps(c.flags),
        "providers": len({s["firm"] for s in c.services}),
    }  # fmt: skip


def _service_row(corridor: str, position: int, s: dict[str, Any]) -> dict[str, Any]:
    row = {
        "corridor": corridor, "position": position, "firm": s["firm"], "firm_type": s["firm_type"],
        "product": s["product"], "payment_instrument": s["payment_instrument"], "access_point": s["access_point"],
        "pickup_method": s["pickup_method"], "speed": s["speed"], "transparent": int(s["transparent"]),
        "accessible": int(s["accessible"]), "interbank": f"{s['interbank']:f}",
    }  # fmt: skip
    for a in ("cc1", "cc2"):
        for k in ("amount", "fee", "rate", "margin", "total"):
            value = s[f"{a}_{k}"]
            row[f"{a}_{k}"] = None if value is None else f"{value:f}"
    return row
