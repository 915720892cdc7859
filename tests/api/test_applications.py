"""Submit-and-decide, risk flags, transitions and cases through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.roles import Role
from graph.runner import Query, QueryRunner
from tests.api.conftest import auth
from tests.utils import application_row, dealer_row

COUNT = Query("test.count_apps", "MATCH (a:Application) RETURN count(a) AS n")
ADD_DEALER = Query("test.add_dealer", "CREATE (:Dealer {dealer_id: $id, name: $name})")


def _submit(client: TestClient, row: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post("/v1/applications", json=row, headers=auth(Role.UNDERWRITER, "uw.zhao"))


def test_submit_returns_a_decision_with_tier_and_reasons(client: TestClient,
                                                         runner: QueryRunner) -> None:
    runner.write(ADD_DEALER, id="D1", name=dealer_row()["name"])
    response = _submit(client, application_row(1))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["application_id"] == "APP000001"
    assert body["tier"] in {"A", "B", "C"}
    assert body["reasons"] and body["policy_version"]
    assert body["decided_by"] == "uw.zhao" and body["automated"] is True
    risk = client.get("/v1/applications/APP000001/risk", headers=auth(Role.INVESTIGATOR))
    assert risk.status_code == 200
    assert risk.json()["tier"] == body["tier"]
    assert risk.json()["status"] == body["outcome"]


def test_a_bad_row_is_a_422_naming_the_field_and_stores_nothing(client: TestClient,
                                                                 runner: QueryRunner) -> None:
    response = _submit(client, application_row(1, applicant_id_number="310101199001011230"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("applicant_id_number")
    missing = dict(application_row(2))
    del missing["loan_amount"]
    response = _submit(client, missing)
    assert response.status_code == 422
    assert response.json()["errors"][0]["where"] == "body.loan_amount"
    assert runner.read(COUNT) == [{"n": 0}]


def test_resubmitting_a_decided_application_is_a_409_and_changes_nothing(
        client: TestClient) -> None:
    first = _submit(client, application_row(1)).json()
    again = _submit(client, application_row(1, loan_amount="1"))
    assert again.status_code == 409
    decisions = client.get("/v1/applications/APP000001/decisions",
                           headers=auth(Role.ANALYST)).json()
    assert [d["decision_id"] for d in decisions] == [first["decision_id"]]


def test_illegal_transition_is_a_409_listing_what_is_allowed(client: TestClient) -> None:
    _submit(client, application_row(1))
    response = client.post("/v1/applications/APP000001/transitions",
                           json={"target": "paid_off", "reason": "try to skip ahead"},
                           headers=auth(Role.UNDERWRITER))
    assert response.status_code == 409
    assert "allowed from" in response.json()["detail"]
    unknown = client.get("/v1/applications/NOPE/risk", headers=auth(Role.UNDERWRITER))
    assert unknown.status_code == 404


def test_tier_b_opens_a_case_an_investigator_can_work(client: TestClient) -> None:
    # Applicant 2 lists applicant 1's own phone as emergency contact and shares the
    # payout account: rule hits that a policy sends to review or rejection.
    _submit(client, application_row(1))
    decided = _submit(client, application_row(2, contact_phone="13800000001",
                                              bank_account="6222000000000000001")).json()
    assert decided["tier"] == "B", decided["reasons"]
    assert decided["case_id"]
    headers = auth(Role.INVESTIGATOR, "inv.sun")
    queue = client.get("/v1/cases", headers=headers).json()
    case_id = decided["case_id"]
    assert case_id in {row["case_id"] for row in queue}
    assert client.post(f"/v1/cases/{case_id}/assign", json={"assignee": "inv.sun"},
                       headers=headers).json()["status"] == "in_progress"
    assert client.post(f"/v1/cases/{case_id}/notes", json={"text": "called the dealer"},
                       headers=headers).status_code == 201
    bad = client.post(f"/v1/cases/{case_id}/decision",
                      json={"disposition": "maybe", "reason": "not sure"}, headers=headers)
    assert bad.status_code == 422


def test_disbursing_and_repayments_go_through_servicing(client: TestClient,
                                                        runner: QueryRunner) -> None:
    runner.write(ADD_DEALER, id="D1", name=dealer_row()["name"])
    assert _submit(client, application_row(1)).json()["tier"] == "A"
    headers = auth(Role.UNDERWRITER, "uw.zhao")
    url = "/v1/applications/APP000001"
    for target in ("contracted", "disbursed"):
        moved = client.post(f"{url}/transitions", json={"target": target, "reason": "signed"},
                            headers=headers)
        assert moved.status_code == 201, moved.text
        assert moved.json()["status"] == target
    audit = client.get("/v1/audit", params={"target": "APP000001", "action": "loan."},
                       headers=auth(Role.ADMIN)).json()
    assert [(e["action"], e["params"]["dealer_id"]) for e in audit] == [("loan.disburse", "D1")]
    paid = client.post(f"{url}/repayments", headers=headers, json={
        "installment_no": "1", "due_date": "2026-04-10", "amount_due": "2600.00",
        "paid_date": "2026-04-09", "amount_paid": "2600.00"})
    assert paid.status_code == 201, paid.text
    assert paid.json() == {"installment": "APP000001#1"}
    for body, where in [({"installment_no": "0", "due_date": "2026-05-10",
                          "amount_due": "2600"}, "installment_no"),
                        ({"installment_no": "2", "due_date": "2026-05-10", "amount_due": "2600",
                          "paid_date": "yesterday"}, "paid_date")]:
        refused = client.post(f"{url}/repayments", json=body, headers=headers)
        assert refused.status_code == 422 and refused.json()["detail"].startswith(where)
    missing = client.post("/v1/applications/APP404/repayments", headers=headers, json={
        "installment_no": "1", "due_date": "2026-04-10", "amount_due": "2600"})
    assert missing.status_code == 404
    count = Query("test.installments", "MATCH (i:Installment) RETURN count(i) AS n")
    assert runner.read(count) == [{"n": 1}]
