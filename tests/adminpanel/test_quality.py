"""The staff Quality page: the confidence matrix as a heat map, the audits and changes behind
a cell, no answer text, staff only."""

from __future__ import annotations

import pytest
from django.test import Client

from routing.learning import confidence_matrix_rebuild
from routing.models import AIModel, ConfidenceCell
from tests.accounts.factories import UserFactory
from tests.conftest import Tenant
from tests.routing.factories import ShadowAuditFactory
from tests.usage.factories import ModelCallFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    return client


def poor_math(tenant: Tenant, count: int = 24) -> ConfidenceCell:
    economy = AIModel.objects.get(slug="sim/economy")
    for n in range(count):
        ShadowAuditFactory(
            model_call=ModelCallFactory(organization=tenant.org, model=economy, task_type="math"),
            economy_model=economy,
            reference_model=AIModel.objects.get(slug="sim/frontier"),
            task_type="math",
            complexity="medium",
            score=0.1 if n % 6 else 0.9,
            verdict="poor" if n % 6 else "pass",
            reason="result differs" if n % 6 else "same result",
            reference_answer="THE REFERENCE ANSWER TEXT",
        )
    confidence_matrix_rebuild()
    return ConfidenceCell.objects.get(model=economy, task_type="math")


def test_the_heat_map_shows_each_cell_and_marks_an_escalated_one(
    staff_client: Client, tenant: Tenant
) -> None:
    poor_math(tenant)

    page = staff_client.get("/staff/quality/").content.decode()

    assert 'data-testid="heat-map"' in page
    assert 'data-testid="cell-sim/economy-math-medium"' in page
    assert "escalated" in page and "n=24" in page


def test_a_cell_opens_its_audits_and_changes_without_any_answer_text(
    staff_client: Client, tenant: Tenant
) -> None:
    cell = poor_math(tenant)

    fragment = staff_client.get(
        f"/staff/quality/?cell={cell.pk}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="cell-detail"
    ).content.decode()

    assert fragment.lstrip().startswith('<section id="cell-detail"')
    assert fragment.count("result differs") == 20 and tenant.org.slug in fragment
    assert "escalated: low end above the bar" in fragment
    assert "THE REFERENCE ANSWER TEXT" not in fragment


def test_the_page_is_404_for_a_customer_and_for_an_unknown_cell(
    client: Client, staff_client: Client, tenant: Tenant
) -> None:
    client.force_login(tenant.owner)

    assert client.get("/staff/quality/").status_code == 404
    assert staff_client.get("/staff/quality/?cell=999999").status_code == 404


def test_the_heat_map_runs_a_fixed_number_of_queries(
    staff_client: Client, tenant: Tenant, django_assert_max_num_queries
) -> None:
    poor_math(tenant)

    with django_assert_max_num_queries(6):
        assert staff_client.get("/staff/quality/").status_code == 200
