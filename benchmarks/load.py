"""Load on a production-like instance, loopback only (issue 13, point 10). A script, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jobs_load \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 .venv/bin/python benchmarks/load.py --duration 90

The database must exist, migrated and seeded (`make load` does: migrate + seed_demo). The script
starts gunicorn (DEBUG off, 2 workers) and a Celery worker on that database and broker, creates
200 load accounts (100 county staff, 100 village secretaries) and, per phase, a review session
with one venue whose group expects 2,000 raters, with 2,000 printed codes. Then, per phase:

- the 200 users log in once each and browse the main pages of their role (staff also ask for
  Excel exports, which the Celery worker writes) for --duration seconds, from --threads threads
  (a closed loop: each thread serves its users one request after the other);
- at the same time the meeting: 2,000 raters each open the ballot page, type their code and cast
  one ballot, from --rater-threads threads; a rater whose request failed tries again with the
  same code (a used code then says so: the earlier attempt was cast);
- phase "chaos" does the same and, halfway, SIGKILLs one gunicorn worker (its master starts a new
  one) and the Celery worker (a new one is started at once, as a supervisor would).

It prints requests/s, p50/p95/p99 and errors per phase, and, counted in the database afterwards,
the ballots lost or doubled (must be 0) and the exports not done exactly once.

Throttles: wrong passwords and wrong ballot codes are throttled per client (organizations/
login_throttle.py, reviews/throttle.py), and every simulated user here shares 127.0.0.1. Both
throttles count failures only; this script logs each account in once with its right password and
types only valid codes, so no throttle needs relaxing and production settings are unchanged.

TLS: production cookies are Secure and HTTPS requests need a matching Origin. The script stands
in for the TLS proxy on loopback: it sends X-Forwarded-Proto: https (SECURE_PROXY_SSL_HEADER),
an Origin of https://127.0.0.1:PORT, and returns Secure cookies over plain HTTP.

Load-only setting: CELERY_VISIBILITY_TIMEOUT=20 for the Celery worker, so that a killed worker's
export comes back within the run (production keeps its 2-hour default, beyond every time limit;
an export here lasts under a second).
"""

import argparse
import os
import queue
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
# One secret for the server and this script: ballot codes are stored as keyed hashes of it.
os.environ.setdefault("DJANGO_SECRET_KEY", "load-" + secrets.token_urlsafe(48))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

LOAD_PASSWORD = "Load-run-2026-zj"
STAFF_PAGES = [
    "/",
    "/checklists/",
    "/checklists/review/",
    "/checklists/progress/",
    "/problems/",
    "/reviews/",
    "/scoring/",
    "/orgs/",
    "/inbox/",
    "/excel/exports/",
]
SECRETARY_PAGES = ["/", "/checklists/", "/checklists/due/", "/checklists/duty/", "/problems/", "/inbox/"]
COUNTY_KINDS = ["county", "county_city", "district"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples = []  # (kind, seconds, status or exception name)
        self.reasons = Counter()  # what the failed connections said, to tell a refusal from a reset

    def record(self, kind, seconds, status):
        with self.lock:
            self.samples.append((kind, seconds, status))


class Client:
    def __init__(self, base, stats):
        self.base = base
        self.stats = stats
        self.http = requests.Session()
        self.http.headers.update({"X-Forwarded-Proto": "https", "Origin": base.replace("http:", "https:")})
        self.http.headers["Referer"] = self.http.headers["Origin"] + "/"

    def request(self, kind, method, path, **kwargs):
        started = time.perf_counter()
        try:
            response = self.http.request(method, self.base + path, timeout=60, allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            self.stats.record(kind, time.perf_counter() - started, type(error).__name__)
            with self.stats.lock:
                self.stats.reasons[f"{method} {path.split('?')[0]}: {str(error)[-90:]}"] += 1
            return None
        self.stats.record(kind, time.perf_counter() - started, response.status_code)
        for cookie in self.http.cookies:
            cookie.secure = False  # Secure cookies go back over loopback HTTP: this script is the TLS proxy
        return response

    def token(self, response):
        found = CSRF.search(response.text) if response is not None else None
        return found.group(1) if found else ""


# --- the simulated people -------------------------------------------------------------------------


def browse(base, stats, users, duration, exports):
    """One thread: its users, each logged in once, then visiting their pages in turn for
    `duration` seconds (counted from the last login: on a busy machine logging 200 users in
    takes a while, PBKDF2 being slow on purpose)."""
    clients = []
    for username, pages, county in users:
        client = Client(base, stats)
        page = client.request("login page", "GET", "/login/")
        data = {"username": username, "password": LOAD_PASSWORD, "csrfmiddlewaretoken": client.token(page)}
        answer = client.request("login", "POST", "/login/", data=data)
        if answer is not None and answer.status_code == 302:
            clients.append((client, pages, county))
    until = time.monotonic() + duration
    while clients and time.monotonic() < until:
        for client, pages, county in clients:
            if time.monotonic() >= until:
                break
            if county and random.random() < 0.03:  # staff sometimes export the county's tree
                page = client.request("page", "GET", "/excel/exports/")
                data = {"kind": "organizations", "org": county, "csrfmiddlewaretoken": client.token(page)}
                answer = client.request("export", "POST", "/excel/exports/new/", data=data)
                if answer is not None and answer.status_code == 302:
                    exports.append(county)
            else:
                client.request("page", "GET", random.choice(pages))


def rate(base, stats, codes, answers, outcomes, used):
    """One thread: raters, one after the other; each casts one ballot with his or her code."""
    while True:
        try:
            code = codes.get_nowait()
        except queue.Empty:
            return
        outcome = "gave up"
        for attempt in range(8):
            client = Client(base, stats)
            page = client.request("ballot", "GET", "/vote/")
            token = client.token(page)
            step = client.request(
                "ballot", "POST", "/vote/", data={"step": "code", "code": code, "csrfmiddlewaretoken": token}
            )
            if step is not None and step.status_code == 400 and used in step.text and attempt:
                outcome = "cast (seen on retry)"  # an earlier attempt was cast; its answer was lost
                break
            if step is None or step.status_code != 200:
                time.sleep(0.5)
                continue
            data = {"step": "cast", "code": code, "csrfmiddlewaretoken": client.token(step) or token, **answers}
            cast = client.request("ballot", "POST", "/vote/", data=data)
            if cast is not None and cast.status_code == 200:
                outcome = "cast"
                break
            if cast is not None and cast.status_code == 409 and attempt:
                outcome = "cast (seen on retry)"
                break
            time.sleep(0.5)
        with stats.lock:
            outcomes[outcome] += 1


# --- the instance ---------------------------------------------------------------------------------


def server_env(args):
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "CACHE_URL": args.broker.replace(
            "redis://", "rediscache://", 1
        ),  # throttles shared by the gunicorn workers, as in production
        "CELERY_BROKER_URL": args.broker,
        "CELERY_VISIBILITY_TIMEOUT": "20",
    }


def children(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def start_celery(args):
    command = [str(BASE_DIR / ".venv/bin/celery"), "-A", "config", "worker", "-l", "warning", "--concurrency", "1"]
    command += ["--without-mingle", "--without-gossip", "-n", f"load{secrets.token_hex(3)}@%h"]
    return subprocess.Popen(
        command, cwd=BASE_DIR, env=server_env(args), start_new_session=True, stdout=subprocess.DEVNULL
    )


def start_gunicorn(args):
    command = [str(BASE_DIR / ".venv/bin/gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{args.port}"]
    command += ["-w", str(args.gunicorn_workers), "--threads", "4", "--timeout", "60", "--log-level", "warning"]
    # Idle connections are kept longer than a client waits between two requests (gunicorn's 2 s
    # default closed them while a request was on its way: "connection reset" on a healthy server).
    command += ["--keep-alive", "75"]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=server_env(args), start_new_session=True)
    for _ in range(200):
        try:
            if requests.get(
                f"http://127.0.0.1:{args.port}/login/", timeout=2, headers={"X-Forwarded-Proto": "https"}
            ).ok:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not answer")


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --- data -----------------------------------------------------------------------------------------


def load_accounts(users):
    """100 county staff and 100 village secretaries of the demo (created once, then reused)."""
    from django.contrib.auth.hashers import make_password

    from organizations.models import Organization, OrganizationKind, Role, RoleAssignment, User

    counties = list(Organization.objects.filter(kind__in=COUNTY_KINDS).order_by("code"))
    villages = list(Organization.objects.filter(kind=OrganizationKind.VILLAGE).order_by("code")[: users // 2])
    wanted = [(f"load-staff-{n:03d}", counties[n % len(counties)], Role.STAFF) for n in range(users // 2)]
    wanted += [(f"load-secretary-{n:03d}", villages[n % len(villages)], Role.SECRETARY) for n in range(users // 2)]
    have = set(User.objects.filter(username__startswith="load-").values_list("username", flat=True))
    password = make_password(LOAD_PASSWORD)
    new = [User(username=name, password=password, full_name=name) for name, _org, _role in wanted if name not in have]
    User.objects.bulk_create(new)
    accounts = {user.username: user for user in User.objects.filter(username__startswith="load-")}
    created = {user.username for user in new}
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user=accounts[name], organization=org, role=role)
            for name, org, role in wanted
            if name in created
        ]
    )
    return [
        (name, STAFF_PAGES if role == Role.STAFF else SECRETARY_PAGES, org.code if role == Role.STAFF else "")
        for name, org, role in wanted
    ]


def meeting(raters, label):
    """A review session open for rating: one venue, one group of `raters`, codes printed."""
    from django.utils import timezone

    from organizations.models import Organization, OrganizationKind, PostTitle, Role, User
    from reviews import services
    from reviews.models import GradeSet, Level, State, Verdict

    county = Organization.objects.filter(kind__in=COUNTY_KINDS).order_by("code").first()
    staff = User.objects.filter(role_assignments__organization=county, role_assignments__role=Role.STAFF).first()
    today = timezone.localdate()
    session = services.session_create(
        actor=staff,
        organizer=county,
        year=today.year,
        title=f"负载测试评议 {label} {timezone.now():%H%M%S}",
        level=Level.VILLAGE_SECRETARIES,
        starts_on=today,
        ends_on=today + timedelta(days=1),
        grade_set=GradeSet.CADRE,
    )
    venue = services.venue_add(actor=staff, session=session, name="县会场", organization=county, held_on=today)
    group = services.group_add(actor=staff, venue=venue, name="党员代表", weight=Decimal(100), expected=raters)
    villages = Organization.objects.subtree(county).filter(
        kind=OrganizationKind.VILLAGE, posts__title=PostTitle.SECRETARY, posts__end_date__isnull=True
    )
    services.reportees_add(
        actor=staff,
        session=session,
        organizations=Organization.objects.filter(pk__in=list(villages.values_list("pk", flat=True)[:5])),
        titles=[PostTitle.SECRETARY],
        venues=[venue],
    )
    services.session_advance(actor=staff, session=session, to=State.PRE_CHECK)
    for reportee in session.reportees.all():
        services.precheck_record(actor=staff, reportee=reportee, verdict=Verdict.CONSISTENT)
    services.session_advance(actor=staff, session=session, to=State.OPEN)
    codes = []
    while len(codes) < raters:
        codes += services.codes_generate(actor=staff, group=group, count=min(2000, raters - len(codes)))[1]
    answers = {f"r{pk}_grade": "0" for pk in session.reportees.values_list("pk", flat=True)}
    return session, staff, codes, answers


def ballots_counted(session):
    from reviews.models import Ballot, BallotAnswer, BallotCode

    return {
        "ballots": Ballot.objects.filter(venue__session=session).count(),
        "codes spent": BallotCode.objects.filter(batch__group__venue__session=session, used=True).count(),
        "answers": BallotAnswer.objects.filter(ballot__venue__session=session).count(),
        "reportees": session.reportees.count(),
    }


# --- one phase ------------------------------------------------------------------------------------


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def phase(name, args, accounts, gunicorn, celery):
    from django.db import connection
    from django.utils import translation

    from reviews import services
    from reviews.models import ReviewSession, State
    from spreadsheets.models import ExportJob

    session, staff, codes, answers = meeting(args.raters, name)
    with translation.override("zh-hans"):
        used = translation.gettext("This code has been used already: each code casts one ballot.")
    connection.close()
    base = f"http://127.0.0.1:{args.port}"
    stats, exports, outcomes = Stats(), [], Counter()
    code_queue = queue.Queue()
    for code in codes:
        code_queue.put(code)
    first_export = ExportJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.monotonic()
    shares = [accounts[n :: args.threads] for n in range(args.threads)]
    threads = [threading.Thread(target=browse, args=(base, stats, share, args.duration, exports)) for share in shares]
    threads += [
        threading.Thread(target=rate, args=(base, stats, code_queue, answers, outcomes, used))
        for _ in range(args.rater_threads)
    ]
    for thread in threads:
        thread.start()
    killed, caught = [], None
    if name == "chaos":
        time.sleep(args.duration / 2)
        victim = children(gunicorn.pid)[0]
        os.kill(victim, signal.SIGKILL)
        # The Celery worker is killed while it writes an export (an export lasts under a second, so
        # the script watches for one; after 30 s without one it kills the idle worker and says so).
        running = ExportJob.objects.filter(pk__gt=first_export, status=ExportJob.Status.RUNNING)
        watch_until = time.monotonic() + 30
        caught = None
        while caught is None and time.monotonic() < watch_until:
            caught = running.values_list("pk", flat=True).first()
            if caught is None:
                time.sleep(0.01)
        os.killpg(celery.pid, signal.SIGKILL)
        celery.wait()
        celery = start_celery(args)
        during = f"while it wrote export {caught}" if caught else "while idle: no export was running"
        killed = [f"gunicorn worker {victim}", f"the Celery worker {during} (restarted)"]
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    # afterwards, in the database
    counted = ballots_counted(session)
    acknowledged = outcomes["cast"] + outcomes["cast (seen on retry)"]
    deadline = time.monotonic() + 60
    jobs = ExportJob.objects.filter(pk__gt=first_export)
    while jobs.exclude(status__in=[ExportJob.Status.DONE, ExportJob.Status.FAILED]).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    export_states = Counter(jobs.values_list("status", flat=True))
    files = len({job.file.name for job in jobs if job.file})
    services.session_advance(actor=staff, session=session, to=State.CLOSED)
    deadline = time.monotonic() + 60
    while ReviewSession.objects.get(pk=session.pk).results_at is None and time.monotonic() < deadline:
        time.sleep(0.5)
    results = ReviewSession.objects.get(pk=session.pk).results_at is not None

    times = [seconds for _kind, seconds, status in stats.samples if isinstance(status, int)]
    ballot_times = [s for kind, s, status in stats.samples if kind == "ballot" and isinstance(status, int)]
    expected = {"login page": 200, "login": 302, "page": 200, "export": 302}  # ballots: see the raters' outcomes
    errors = Counter(
        f"{kind}:{status}"
        for kind, _s, status in stats.samples
        if not isinstance(status, int) or status >= 500 or expected.get(kind, status) != status
    )
    print(
        f"\n== phase {name}: {elapsed:.0f} s, {args.users} users on {args.threads} threads, "
        f"{args.raters} raters on {args.rater_threads} threads" + (f"; killed {', '.join(killed)}" if killed else "")
    )
    print(f"requests {len(stats.samples)}  ({len(stats.samples) / elapsed:.1f}/s)")
    print(
        "latency all      p50 {:.0f} ms  p95 {:.0f} ms  p99 {:.0f} ms".format(
            *(1000 * percentile(times, q) for q in (0.5, 0.95, 0.99))
        )
    )
    print(
        "latency ballots  p50 {:.0f} ms  p95 {:.0f} ms  p99 {:.0f} ms".format(
            *(1000 * percentile(ballot_times, q) for q in (0.5, 0.95, 0.99))
        )
    )
    print(f"errors {sum(errors.values())}  {dict(errors) or ''}")
    for reason, count in stats.reasons.most_common(5):
        print(f"  {count}× {reason}")
    print(f"raters: {dict(outcomes)}")
    lost = max(0, acknowledged - counted["ballots"])
    doubled = max(0, counted["ballots"] - acknowledged - outcomes["gave up"])
    doubled += max(0, counted["ballots"] - counted["codes spent"])
    answers_right = counted["answers"] == counted["ballots"] * counted["reportees"]
    print(
        f"ballots: acknowledged by a 2xx {outcomes['cast']}, cast but answered only on a retry "
        f"{outcomes['cast (seen on retry)']}, in the database {counted['ballots']}, codes spent "
        f"{counted['codes spent']}, answers {counted['answers']} ({'one per reportee' if answers_right else 'WRONG'}) "
        f"→ lost {lost}, doubled {doubled}"
    )
    print(f"exports: asked {len(exports)}, jobs {sum(export_states.values())} {dict(export_states)}, files {files}")
    if name == "chaos" and caught:
        victim_job = ExportJob.objects.get(pk=caught)
        print(
            f"export {caught}, running when its worker was killed: now {victim_job.status}, "
            f"file {'written' if victim_job.file else 'MISSING'}"
        )
    print(f"review results computed by the worker after closing: {'yes' if results else 'NO'}")
    return celery, lost + doubled


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=150, help="seconds of browsing per phase (default 150)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--raters", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=24, help="threads serving the users")
    parser.add_argument("--rater-threads", type=int, default=8)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOAD_PORT", 8112)))
    parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--phases", default="calm,chaos", help="calm, chaos or both (default)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database built with migrate + seed_demo (make load).")
    os.environ["CELERY_BROKER_URL"] = args.broker

    import django

    django.setup()
    accounts = load_accounts(args.users)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=server_env(args),
        check=True,
    )
    gunicorn, celery = start_gunicorn(args), start_celery(args)
    bad = 0
    try:
        for name in args.phases.split(","):
            celery, wrong = phase(name, args, accounts, gunicorn, celery)
            bad += wrong
    finally:
        stop(gunicorn)
        stop(celery)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
