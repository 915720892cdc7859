"""Small hand-made graphs for the gnn tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from graph.schema import Rel
from ingest.pipeline import ingest_folder
from synthetic import generate_portfolio
from tests.conftest import WIPE


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


DAY = 86_400
START = 1_700_000_000


def _app(i: int, ts: float, dealer: str, loan: float, price: float, label: str) -> dict:
    return {"application_id": f"A{i:04d}", "ts": float(ts), "dealer_id": dealer,
            "product": "new_car", "loan_amount": loan, "down_payment": max(price - loan, 0.0),
            "vehicle_price": price, "vehicle_model": "M1", "term_months": 36,
            "monthly_income": 15_000.0, "label": label, "disposition": None,
            # Labels arrive a month later: a ring's own labels are unknown while it applies.
            "labeled_ts": float(ts + 30 * DAY)}


def ring_tables(groups: int = 150, seed: int = 0) -> tuple[pd.DataFrame,
                                                          dict[Rel, pd.DataFrame]]:
    """Groups of four applications sharing a device, each group within two days.

    A fraud ring's four apply at four dealers; an honest group (a family) at one. Own
    features are drawn alike, and labels arrive a month later, so neither the own
    features nor the neighbours' labels tell them apart: only the device's dealer mix
    does, which the GNN reads and the neighbour-aggregate baseline does not. Every third
    application also uses one carrier-NAT IP (a hub above the two-hop cap), and each
    member lists the previous member's phone as contact.
    """
    rng = np.random.default_rng(seed)
    apps, device, ip, phone, contact = [], [], [], [], []
    for g in range(groups):
        fraud = rng.random() < 0.3
        start = START + rng.uniform(0, 360) * DAY
        home = int(rng.integers(0, 12))
        for k in range(4):
            i = 4 * g + k
            price = float(rng.uniform(100_000, 200_000))
            loan = price * float(rng.uniform(0.5, 0.8))
            dealer = f"D{(home + k) % 12 if fraud else home}"
            apps.append(_app(i, start + rng.uniform(0, 2) * DAY, dealer, loan, price,
                             "fraud" if fraud else "legit"))
            device.append((apps[-1]["application_id"], f"dev{g}"))
            phone.append((apps[-1]["application_id"], f"m{i}"))
            if i % 3 == 0:
                ip.append((apps[-1]["application_id"], "nat"))
            if k:
                contact.append((apps[-1]["application_id"], f"m{i - 1}"))
    frame = pd.DataFrame(apps)
    ids = frame["application_id"]

    def table(pairs: list[tuple[str, str]]) -> pd.DataFrame:
        return pd.DataFrame(pairs, columns=["app", "node"])

    links = {
        Rel.APPLICANT: pd.DataFrame({"app": ids, "node": [f"p{i}" for i in range(len(ids))]}),
        Rel.APPLICANT_PHONE: table(phone), Rel.CONTACT_PHONE: table(contact),
        Rel.SUBMITTED_FROM_DEVICE: table(device), Rel.SUBMITTED_FROM_IP: table(ip),
        Rel.SUBMITTED_VIA: pd.DataFrame({"app": ids, "node": frame["dealer_id"]}),
    }
    return frame, links


def own_signal_tables(n: int = 500, seed: int = 0) -> tuple[pd.DataFrame,
                                                            dict[Rel, pd.DataFrame]]:
    """Fraud iff the loan exceeds the vehicle's price, with nothing shared: the trees on
    own features split it exactly, so the GNN cannot beat them."""
    rng = np.random.default_rng(seed)
    apps = []
    for i in range(n):
        fraud = rng.random() < 0.2
        price = float(rng.uniform(100_000, 200_000))
        ratio = rng.uniform(1.1, 1.3) if fraud else rng.uniform(0.5, 0.8)
        apps.append(_app(i, START + i * DAY / 2, f"D{i % 5}", price * ratio, price,
                         "fraud" if fraud else "legit"))
    frame = pd.DataFrame(apps)
    ids = frame["application_id"]
    links = {
        Rel.APPLICANT: pd.DataFrame({"app": ids, "node": [f"p{i}" for i in range(n)]}),
        Rel.SUBMITTED_VIA: pd.DataFrame({"app": ids, "node": frame["dealer_id"]}),
    }
    return frame, links


def load_generated(runner: QueryRunner, pseudo: Pseudonymiser, folder: Path, *,
                   applications: int, seed: int) -> QueryRunner:
    """A generated portfolio, without repayments (the gnn tests need none), loaded into
    the wiped session database."""
    generate_portfolio(folder, applications=applications, seed=seed)
    (folder / "repayments.csv").unlink()
    runner.write(WIPE)
    ingest_folder(folder, runner, pseudo, folder / "reports")
    return runner
