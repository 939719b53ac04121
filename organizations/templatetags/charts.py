"""Chart tags (organizations.charts): completion by child, overdue by child, the monthly
trend and problem states, each a figure with its SVG, its table one click away and a CSV.

    {% load charts %}
    {% completion_chart children year=year %}   children of checklists.selectors.progress_by_child
    {% overdue_chart rows %}                     rows with .overdue (and .open), e.g. the board's
    {% trend_chart months %}                     checklists.selectors.progress_by_month
    {% states_chart states %}                    [(label, count)], e.g. supervision.selectors.problem_states
"""

from django import template
from django.utils.translation import gettext as _

from organizations.charts import Chart, bar_svg, columns_svg

register = template.Library()
FIGURE = "charts/_figure.html"


def _name(row):
    return getattr(row, "name_with_town", None) or getattr(row, "name", "")


def _link(row, year=None):
    code = getattr(row, "code", None)
    if not code:
        return None
    return f"?org={code}" + (f"&year={year}" if year else "")


@register.inclusion_tag(FIGURE)
def completion_chart(children, year=None, name="completion"):
    title = _("Completion by organization below")
    bars, rows = [], []
    for child in children:
        if not child.total:
            shown = _("not issued")
        elif child.rate is None:
            shown = "—"
        else:
            shown = f"{child.rate}%"
        bars.append((_name(child), child.rate, shown, "green"))
        rows.append([_name(child), child.due, child.done, child.overdue, shown])
    headers = [_("organization"), _("due so far"), _("done"), _("overdue"), _("completion rate")]
    chart = Chart(title, bar_svg(bars, maximum=100, title=title), headers, rows, name=name)
    chart.links = [_link(child, year) for child in children]
    return {"chart": chart}


@register.inclusion_tag(FIGURE)
def overdue_chart(rows, year=None, name="overdue", title=None):
    title = title or _("Overdue by organization below")
    rows = list(rows)
    bars = [(_name(row), row.overdue, str(row.overdue), "red") for row in rows]
    with_open = all(hasattr(row, "open") for row in rows)
    headers = [_("organization"), _("overdue")] + ([_("open")] if with_open else [])
    table = [[_name(row), row.overdue] + ([row.open] if with_open else []) for row in rows]
    chart = Chart(title, bar_svg(bars, title=title), headers, table, name=name)
    chart.links = [_link(row, year) for row in rows]
    return {"chart": chart}


@register.inclusion_tag(FIGURE)
def trend_chart(months, name="trend"):
    title = _("Occurrences due and done by month")
    months = list(months)
    categories = [_("M%(month)s") % {"month": row["month"].month} for row in months]
    series = [
        (_("due"), [row["due"] for row in months], "grey"),
        (_("done"), [row["done"] for row in months], "green"),
    ]
    headers = [_("month"), _("due"), _("done"), _("overdue")]
    table = [[f"{row['month']:%Y-%m}", row["due"], row["done"], row.get("overdue", 0)] for row in months]
    return {"chart": Chart(title, columns_svg(categories, series, title=title), headers, table, name=name)}


@register.inclusion_tag(FIGURE)
def states_chart(states, name="states"):
    title = _("Problems by state")
    states = list(states)
    bars = [(label, count, str(count), "red" if tone == "red" else "blue") for label, count, tone in states]
    table = [[label, count] for label, count, _tone in states]
    return {"chart": Chart(title, bar_svg(bars, title=title), [_("status"), _("count")], table, name=name)}
