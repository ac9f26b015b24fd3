from django.urls import reverse


def test_it_shows_the_home_page_in_chinese(client, db):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers


def test_it_knows_the_regions(db):
    from accounts.models import Region

    assert Region.objects.get(pk="460100").name == "海口市"
