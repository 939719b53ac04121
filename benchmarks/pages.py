"""Benchmark (not a test): the pages of benchmarks/scale.py against the bare layout, one request
of each after the other, so that both see the same moment of a noisy machine. This is how the
README's before/after tables of the pages were measured.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale   # seed_scale's database
    .venv/bin/python benchmarks/pages.py org_tree board --requests 30
    git worktree add /tmp/before <commit>                           # the same, for older code:
    .venv/bin/python benchmarks/pages.py org_tree --root /tmp/before

The pages, the user and the data are this checkout's (scale.page_client); --root only changes
whose code serves them (run `manage.py collectstatic` there first: DEBUG is off, as scale.py
sets it). Prints, for each page, the medians of ours and of the bare layout, their ratio, and
the queries of one request with the time the database took for them.
"""

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path


def load_scale():
    """This checkout's benchmarks/scale.py (its data and pages), as a module of its own name."""
    spec = importlib.util.spec_from_file_location("scale_bench", Path(__file__).with_name("scale.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_bench"] = module
    spec.loader.exec_module(module)  # sets DEBUG off, as production; imports nothing of the site
    return module


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    options = parser.parse_args()
    scale = load_scale()
    root = options.root.resolve()
    os.chdir(root)
    sys.path.insert(0, str(root))  # the site's code from the checkout timed

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import override_settings
    from django.utils import translation

    translation.activate("zh-hans")
    client, urls = scale.page_client()

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    def timed(url):
        started = time.perf_counter()
        get(url)
        return time.perf_counter() - started

    with override_settings(ROOT_URLCONF="scale_bench", ALLOWED_HOSTS=["*"]):
        for name in options.pages:
            url = urls[name]
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
