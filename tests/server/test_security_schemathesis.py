"""Generated requests (Schemathesis, from the app's own OpenAPI) as a patient, as a therapist and as the clinic
admin (the audit log's only reader): no answer is a
5xx and every documented answer matches its schema (datetimes with a time zone included). In-process (ASGI),
a bounded number of examples per operation, the same examples every run."""

from __future__ import annotations

import pytest
from apiutil import add_user, api_client, create_patient, login, make_settings, stored_session

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

EXAMPLES = 12
SKIPPED = {"POST /api/auth/logout"}  # would end the very tokens the run uses (its own test: test_security_accounts)


@pytest.mark.slow
def test_generated_requests_get_no_5xx_and_match_the_schema(tmp_path):
    with api_client(make_settings(tmp_path, max_upload_mb=2)) as client:
        add_user(client, "thera")
        therapist = login(client, "thera")
        pid = create_patient(client, therapist, "pat1")
        sid = stored_session(client, pid)
        client.post("/api/programmes", headers=therapist, json={"name": "mine", "items": [{"exercise": "squat",
                                                                                          "reps": 5}]})
        patient = login(client, "pat1")
        client.get(f"/api/sessions/{sid}", headers=therapist)  # an audit entry for the admin to read
        add_user(client, "clinic_admin", role="admin")
        admin = login(client, "clinic_admin")
        schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        failures: list[str] = []
        ran = 0
        def examples(operation, role: str, headers: dict) -> None:
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def run(case):
                nonlocal ran
                ran += 1
                try:
                    case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
                except (Exception, BaseExceptionGroup) as exc:  # collect them all, report together
                    failures.append(f"{role} {operation.label}: {str(exc)[:600]}")

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # re-raised by Hypothesis at the end
                failures.append(f"{role} {operation.label}: {str(exc)[:600]}")

        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.label not in SKIPPED:
                for role, headers in (("patient", patient), ("therapist", therapist), ("admin", admin)):
                    examples(operation, role, headers)
        assert ran > 200
        assert not failures, "\n\n".join(sorted(set(failures))[:20])
