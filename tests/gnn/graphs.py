"""Small hand-made graphs for the gnn tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from graph.schema import Rel


def planted_graph(n_app: int = 1500, n_dev: int = 300, seed: int = 0) -> HeteroData:
    """Applications sharing devices; fraud iff the device is bad.

    An application's own features carry only a weak hint; its device's *other*
    applications carry the rest, so only a model that reads neighbours does well.
    Random masks: 60% train, 20% val, 20% test.
    """
    g = torch.Generator().manual_seed(seed)
    dev = torch.randint(0, n_dev, (n_app,), generator=g)
    bad = torch.rand(n_dev, generator=g) < 0.15
    y = bad[dev].long()
    x = torch.randn(n_app, 4, generator=g)
    x[:, 0] += 1.0 * y.float()
    data = HeteroData()
    data["app"].x, data["app"].y = x, y
    data["dev"].x = torch.ones(n_dev, 1)
    data["app", "uses", "dev"].edge_index = torch.stack([torch.arange(n_app), dev])
    data["dev", "rev_uses", "app"].edge_index = torch.stack([dev, torch.arange(n_app)])
    perm = torch.randperm(n_app, generator=g)
    for name, part in (("train_mask", slice(0, int(0.6 * n_app))),
                       ("val_mask", slice(int(0.6 * n_app), int(0.8 * n_app))),
                       ("test_mask", slice(int(0.8 * n_app), None))):
        mask = torch.zeros(n_app, dtype=torch.bool)
        mask[perm[part]] = True
        data["app"][name] = mask
    return data


def portfolio_tables(n: int = 40) -> tuple[pd.DataFrame, dict[Rel, pd.DataFrame]]:
    """Application and link tables as ``read_portfolio`` returns them.

    Applications 0-9 share one device (0-4 fraud, 5-9 legit); the rest are unlabelled
    or labelled alternately, submitted one day apart, with unique identifiers.
    """
    day = 86_400
    rows = []
    for i in range(n):
        label = "fraud" if i < 5 or (i >= 10 and i % 7 == 0) else (
            "legit" if i < 10 or i % 3 == 0 else None)
        rows.append({
            "application_id": f"A{i:03d}", "ts": 1_700_000_000 + i * day,
            "dealer_id": f"D{i % 3}", "product": "new_car" if i % 2 else "used_car",
            "loan_amount": 90_000.0 + 1000 * i, "down_payment": 30_000.0,
            "vehicle_price": 120_000.0 if i % 4 else 240_000.0, "vehicle_model": "M1",
            "term_months": 36, "monthly_income": 12_000.0 if i % 5 else None,
            "label": label, "disposition": None,
            "labeled_ts": 1_700_000_000 + (i + 30) * day if label else None,
        })
    apps = pd.DataFrame(rows)
    ids = apps["application_id"]
    links = {
        Rel.APPLICANT: pd.DataFrame({"app": ids, "node": [f"p{i}" for i in range(n)]}),
        Rel.SUBMITTED_FROM_DEVICE: pd.DataFrame(
            {"app": ids, "node": ["shared" if i < 10 else f"d{i}" for i in range(n)]}),
        Rel.SUBMITTED_VIA: pd.DataFrame({"app": ids, "node": apps["dealer_id"]}),
        Rel.APPLICANT_PHONE: pd.DataFrame({"app": ids, "node": [f"m{i}" for i in range(n)]}),
        # Application 1 lists application 0's phone as its emergency contact.
        Rel.CONTACT_PHONE: pd.DataFrame({"app": ["A001"], "node": ["m0"]}),
    }
    return apps, links


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
