from django.urls import reverse


def test_it_shows_the_home_page_in_chinese(client, db):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers


def test_it_knows_the_regions(db):
    from accounts.models import Region

    assert Region.objects.get(pk="460100").name == "海口市"


def test_it_speaks_chinese_by_default_and_english_on_request(client, db):
    page = client.get(reverse("portal:home")).content.decode()
    assert "用您的医保个人账户余额帮家人看病" in page
    client.post(reverse("portal:set-language"), {"language": "en", "next": "/"})
    page = client.get(reverse("portal:home")).content.decode()
    assert "use your medical-insurance balance for your family" in page
