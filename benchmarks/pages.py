"""Benchmark (not a test): the pages of benchmarks/scale.py against the bare layout, one request
of each after the other, so that both see the same moment of a noisy machine. This is how the
README's before/after tables of the pages were measured.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale   # seed_scale's database
    .venv/bin/python benchmarks/pages.py org_tree board --requests 30
    git worktree add /tmp/before <commit>                           # the same, for older code:
    .venv/bin/python benchmarks/pages.py org_tree --root /tmp/before

Prints, for each page, the medians of ours and of the bare layout, their ratio, and the queries
of one request with the time the database took for them. Run with DEBUG off, as scale.py does
(and after `manage.py collectstatic`, which scale.py runs).
"""

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path


def load_scale(root):
    """benchmarks/scale.py of the checkout at `root`, with that checkout first on the path."""
    os.chdir(root)
    sys.path.insert(0, str(root))
    spec = importlib.util.spec_from_file_location("scale_bench", root / "benchmarks" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_bench"] = module
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    options = parser.parse_args()
    scale = load_scale(options.root.resolve())

    import django

    django.setup()
    from django.db import connection
    from django.shortcuts import render
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path, reverse
    from django.utils import translation

    from checklists.models import Checklist
    from supervision.models import Problem

    translation.activate("zh-hans")
    c = scale.context()
    county = c["county"]
    town = county.children.order_by("code").first()
    values = {
        "county": county.code,
        "town_code": town.code,
        "problem": Problem.objects.filter(organization__path__startswith=county.path).order_by("pk").first().pk,
        "checklist": Checklist.objects.filter(organization__parent=town).order_by("pk").first().pk,
    }
    bare_layout = path("trivial/", lambda request: render(request, "base.html"))
    scale.urlpatterns = [bare_layout, path("", include("config.urls"))]
    client = Client()
    client.force_login(c["staff"])

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    def timed(url):
        started = time.perf_counter()
        get(url)
        return time.perf_counter() - started

    with override_settings(ROOT_URLCONF="scale_bench", ALLOWED_HOSTS=["*"]):
        for name in options.pages:
            _name, url_name, suffix = next(page for page in scale.PAGES if page[0] == name)
            if "{" in suffix and not suffix.startswith("?"):
                url = reverse(url_name, args=[suffix.format(**values)])
            else:
                url = reverse(url_name) + suffix.format(**values)
            for _ in range(3):  # warm-up
                get(url)
                get("/trivial/")
            ours, bare = [], []
            for _ in range(options.requests):
                ours.append(timed(url))
                bare.append(timed("/trivial/"))
            spent = []

            def wrapper(execute, sql, params, many, context, spent=spent):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    spent.append(time.perf_counter() - started)

            with connection.execute_wrapper(wrapper):
                get(url)
            ours_ms, bare_ms = statistics.median(ours) * 1000, statistics.median(bare) * 1000
            print(
                f"page {name} ours_ms={ours_ms:.1f} bare_ms={bare_ms:.1f} ratio={ours_ms / bare_ms:.2f} "
                f"queries={len(spent)} sql_ms={sum(spent) * 1000:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    main()
