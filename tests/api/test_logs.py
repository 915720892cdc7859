"""No personal data in logs: a submission, a look-up and a refused request leave only ids
and masked values in what the service writes."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api.roles import Role
from tests.api.conftest import auth
from tests.utils import application_row


def test_the_service_logs_no_clear_personal_data(client: TestClient,
                                                 capsys: pytest.CaptureFixture[str],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    row = application_row(7, applicant_name="欧阳明", contact_name="司马光")
    decided = client.post("/v1/applications", json=row, headers=auth(Role.UNDERWRITER))
    assert decided.status_code == 201, decided.text
    bad = dict(row, application_id="APP000008", applicant_phone="138-00QX-99")
    assert client.post("/v1/applications", json=bad,
                       headers=auth(Role.UNDERWRITER)).status_code == 422
    found = client.post("/v1/entities/lookup", headers=auth(Role.INVESTIGATOR),
                        json={"kind": "phone", "value": row["applicant_phone"]})
    assert found.status_code == 200
    written = capsys.readouterr()
    logs = written.out + written.err + caplog.text
    assert "APP000007" in logs  # the decision was logged, by id
    for field in ("applicant_id_number", "applicant_name", "applicant_phone", "contact_name",
                  "contact_phone", "bank_account", "home_address"):
        assert row[field] not in logs, field
    assert "00QX" not in logs
