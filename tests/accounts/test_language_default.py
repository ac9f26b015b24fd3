from django.urls import reverse


def test_it_answers_in_chinese_even_when_the_browser_prefers_english(client, db):
    page = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "家庭共济门户" in page
    assert 'lang="zh-CN"' in page


def test_it_answers_in_english_after_the_person_chooses_english(client, db):
    client.post(reverse("portal:set-language"), {"language": "en", "next": "/"})
    page = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Family Pooling Portal" in page
    assert 'lang="en"' in page
