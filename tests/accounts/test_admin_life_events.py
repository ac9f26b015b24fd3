"""A bureau clerk's registry correction in admin is a life event the pooling rules follow."""

from django.urls import reverse

from pooling.common import By
from pooling.models import Binding, BindingStatus
from pooling.proposals import propose_binding


def _change_form_data(person, **overrides):
    data = {
        "name": person.name, "scheme": person.scheme, "status": person.status, "region": person.region_id,
        "died_on": "",
    }
    data.update(overrides)
    return data


def test_it_ends_bindings_when_a_clerk_records_a_death(client, bureau_clerk, holder, mother):
    binding = propose_binding(holder, mother, "parent", By(holder))
    Binding.objects.filter(pk=binding.pk).update(status=BindingStatus.ACTIVE)
    client.force_login(bureau_clerk)
    url = reverse("admin:accounts_insuredperson_change", args=[mother.pk])
    response = client.post(url, _change_form_data(mother, died_on="2026-11-20"))
    assert response.status_code == 302, response.content.decode()[:2000]
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ENDED


def test_it_pauses_bindings_when_a_clerk_suspends_the_holder(client, bureau_clerk, holder, mother):
    binding = propose_binding(holder, mother, "parent", By(holder))
    Binding.objects.filter(pk=binding.pk).update(status=BindingStatus.ACTIVE)
    client.force_login(bureau_clerk)
    url = reverse("admin:accounts_insuredperson_change", args=[holder.pk])
    client.post(url, _change_form_data(holder, status="suspended"))
    binding.refresh_from_db()
    assert binding.status == BindingStatus.SUSPENDED


def test_it_leaves_bindings_alone_when_only_the_name_is_corrected(client, bureau_clerk, holder, mother):
    binding = propose_binding(holder, mother, "parent", By(holder))
    client.force_login(bureau_clerk)
    url = reverse("admin:accounts_insuredperson_change", args=[mother.pk])
    client.post(url, _change_form_data(mother, name="李秀英"))
    binding.refresh_from_db()
    assert binding.status == BindingStatus.PENDING
