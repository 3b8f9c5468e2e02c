import pytest
from django.urls import reverse

from accounts.models import Membership, Organization, Role, User
from billing.models import CreditLedger, LedgerKind, Plan, Subscription

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"


def signup(client, email: str, password: str = "a-Strong-passphrase-42"):
    return client.post(SIGNUP, {"email": email, "password1": password, "password2": password})


def test_signup_creates_user_organisation_and_free_subscription(client) -> None:
    response = signup(client, "ada@example.test")

    assert response.status_code == 302
    user = User.objects.get(email="ada@example.test")
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER
    subscription = Subscription.objects.for_org(membership.organization).get()
    free = Plan.objects.get(slug="free")
    assert subscription.plan == free
    grant = CreditLedger.objects.for_org(membership.organization).get()
    assert (grant.kind, grant.credits) == (LedgerKind.GRANT, free.monthly_credits)


def test_dashboard_after_signup_names_organisation_and_plan(client) -> None:
    signup(client, "grace@example.test")

    page = client.get(reverse("dashboard"))

    assert page.status_code == 200
    assert "grace&#x27;s workspace" in page.content.decode()
    assert "Free" in page.content.decode()


def test_signup_with_taken_email_shows_form_error_and_creates_nothing(client) -> None:
    signup(client, "taken@example.test")
    client.logout()
    orgs_before = Organization.objects.count()

    response = signup(client, "TAKEN@example.test")

    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1
    assert Organization.objects.count() == orgs_before


@pytest.mark.parametrize(
    ("password", "message"),
    [("password", "too common"), ("a1b2", "too short"), ("83749201937", "entirely numeric")],
)
def test_signup_with_weak_password_shows_form_error(client, password: str, message: str) -> None:
    response = signup(client, "weak@example.test", password)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(email="weak@example.test").exists()
    assert not Organization.objects.filter(memberships__user__email="weak@example.test").exists()


def test_login_page_is_served_to_anonymous_visitors(client) -> None:
    home = client.get("/")
    dashboard = client.get(reverse("dashboard"))

    assert home.status_code == 302
    assert dashboard.status_code == 302
    assert dashboard["Location"].startswith("/accounts/login/")
    assert 'name="password"' in client.get("/accounts/login/").content.decode()


def test_a_weak_password_is_refused_right_below_the_password_field(client) -> None:
    response = signup(client, "weak2@example.test", "password")

    html = response.content.decode()
    field = html.index('id="id_password1"')
    error = html.index("This password is too common")
    next_field = html.index('id="id_password2"')
    assert field < error < next_field  # under the password input, not above the form
    assert 'aria-describedby="id_password1_helptext id_password1_error"' in html
