"""portal/pagecache.py on its own: what a view answers decides whether its page is kept.

(tests/payments/test_kept_pages.py checks the real pages against every kind of change.)"""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.template import engines
from django.test import RequestFactory

from portal import pagecache

pytestmark = pytest.mark.django_db

PAGE = engines["django"].from_string('<form method="post">{% csrf_token %}</form><p>{{ text }}</p>')


def request_of(user):
    request = RequestFactory().get("/somewhere/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    MessageMiddleware(lambda r: HttpResponse()).process_request(request)
    request.user = user
    return request


def test_a_page_with_a_message_the_view_added_is_not_kept(holder):
    calls = []

    @pagecache.cached_page("test")
    def view(request):
        calls.append(1)
        messages.info(request, "Saved.")
        return HttpResponse(PAGE.render({"text": "hello"}, request))

    first = view(request_of(holder.user))
    assert b"hello" in first.content and pagecache.PLACEHOLDER.encode() not in first.content
    view(request_of(holder.user))
    assert len(calls) == 2 and len(pagecache.store) == 0


def test_a_failing_view_leaves_no_placeholder_behind(holder):
    @pagecache.cached_page("test")
    def broken(request):
        raise RuntimeError("boom")

    request = request_of(holder.user)
    with pytest.raises(RuntimeError):
        broken(request)
    assert not request.page_cache_placeholder
    assert pagecache.csrf_placeholder(request) == {}


def test_a_kept_page_answers_with_the_token_of_each_request(holder):
    calls = []

    @pagecache.cached_page("test")
    def view(request):
        calls.append(1)
        return HttpResponse(PAGE.render({"text": "hello"}, request))

    first, second = view(request_of(holder.user)), view(request_of(holder.user))
    assert len(calls) == 1 and len(pagecache.store) == 1
    assert first.content != second.content  # each its own token
    assert pagecache.PLACEHOLDER.encode() not in first.content + second.content
