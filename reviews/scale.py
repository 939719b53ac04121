"""The work-report reviews of a province-sized year (seed_scale; organizations.scale explains
the method): per town a closed session in which its village secretaries report, Suixi-style a
venue in each village with two rater groups (40 party members, 30 villagers), every rater's
phone ballot cast — 70 ballots per village, ≈2 million at a province."""

from django.utils import timezone

from organizations.scale import PREFIX, analyze, insert_select

from .models import Ballot, BallotAnswer, RaterGroup, Reportee, ReviewSession, Venue

GROUPS = [("党员", 60, 40), ("群众", 40, 30)]
POINTS = [100, 80, 60, 0]


def build(spec, stdout):
    today = timezone.localdate()
    insert_select(
        ReviewSession,
        f"""FROM organizations_organization o JOIN organizations_user u ON u.username = 'scale-' || lower(o.code)
            WHERE o.kind = 'town' AND o.code LIKE '{PREFIX}%%'""",
        year=str(today.year),
        organizer_id="o.id",
        title="'村党组织书记抓党建述职评议'",
        level="'village'",
        state="'closed'",
        starts_on=f"DATE '{today}'",
        ends_on=f"DATE '{today}'",
        grade_set="'cadre'",
        points=f"'{POINTS}'::jsonb",
        thresholds="'[90, 70, 60]'::jsonb",
        created_by_id="u.id",
    )
    sessions = (
        "reviews_reviewsession s JOIN organizations_organization o ON o.id = s.organizer_id "
        "JOIN organizations_organization village ON village.parent_id = o.id "
        f"WHERE o.code LIKE '{PREFIX}%%'"
    )
    insert_select(
        Venue,
        f"FROM {sessions}",
        session_id="s.id",
        name="village.name",
        organization_id="village.id",
        held_on=f"DATE '{today}'",
    )
    venues = (
        "reviews_venue v JOIN reviews_reviewsession s ON s.id = v.session_id "
        "JOIN organizations_organization o ON o.id = s.organizer_id "
        f"WHERE o.code LIKE '{PREFIX}%%'"
    )
    for position, (name, weight, expected) in enumerate(GROUPS):
        insert_select(
            RaterGroup,
            f"FROM {venues}",
            venue_id="v.id",
            name=f"'{name}'",
            weight=str(weight),
            expected=str(expected),
            position=str(position),
        )
    insert_select(
        Reportee,
        f"""FROM reviews_venue v JOIN reviews_reviewsession s ON s.id = v.session_id
            JOIN organizations_organization o ON o.id = s.organizer_id
            JOIN organizations_post p ON p.organization_id = v.organization_id AND p.title = 'secretary'
            WHERE o.code LIKE '{PREFIX}%%'""",
        session_id="s.id",
        person_id="p.person_id",
        post_id="p.id",
        post_label="'村党组织书记'",
        organization_id="v.organization_id",
        order="v.position",
        check_verdict="'consistent'",
        checked_at="now()",
    )
    insert_select(
        Reportee.venues.through,
        """FROM reviews_reportee r
           JOIN reviews_venue v ON v.session_id = r.session_id AND v.organization_id = r.organization_id
           JOIN organizations_organization o ON o.id = r.organization_id WHERE o.code LIKE %s""",
        [f"{PREFIX}%"],
        reportee_id="r.id",
        venue_id="v.id",
    )
    analyze(ReviewSession, Venue, RaterGroup, Reportee, Reportee.venues.through)
    insert_select(
        Ballot,
        "FROM reviews_ratergroup g JOIN reviews_venue v ON v.id = g.venue_id "
        "JOIN organizations_organization o ON o.id = v.organization_id "
        "CROSS JOIN LATERAL generate_series(1, g.expected) AS n WHERE o.code LIKE %s",
        [f"{PREFIX}%"],
        id="gen_random_uuid()",
        venue_id="v.id",
        group_id="g.id",
        cast_on=f"DATE '{today}'",
    )
    analyze(Ballot)
    # Grades 优秀 50 %, 称职 40 %, 基本称职 8 %, 不称职 2 %; 3 % abstain.
    grade = "CASE WHEN x.r < 0.50 THEN 0 WHEN x.r < 0.90 THEN 1 WHEN x.r < 0.98 THEN 2 ELSE 3 END"
    insert_select(
        BallotAnswer,
        """FROM (SELECT b.id, b.group_id, rv.reportee_id, random() AS r, random() AS abstain
                 FROM reviews_ballot b JOIN reviews_reportee_venues rv ON rv.venue_id = b.venue_id
                 JOIN reviews_venue v ON v.id = b.venue_id JOIN organizations_organization o ON o.id = v.organization_id
                 WHERE o.code LIKE %s) x""",
        [f"{PREFIX}%"],
        ballot_id="x.id",
        reportee_id="x.reportee_id",
        group_id="x.group_id",
        grade=f"CASE WHEN x.abstain >= 0.03 THEN {grade} END",
        score=f"CASE WHEN x.abstain >= 0.03 THEN (ARRAY{POINTS})[1 + {grade}] END",
    )
    analyze(BallotAnswer)
    stdout.write(
        f"  述职评议 {ReviewSession.objects.filter(organizer__code__startswith=PREFIX).count():,} 场，"
        f"选票 {Ballot.objects.filter(venue__organization__code__startswith=PREFIX).count():,} 张"
    )
