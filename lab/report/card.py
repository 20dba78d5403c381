"""The score card as plain text (terminal) and as Markdown lines (the postmortem draft)."""

from __future__ import annotations

from lab.core.safe_text import markdown as md
from lab.core.scoring import RATING_MEANING, ScoreCard
from lab.report.facts import outcome_text


def _evidence(ids: tuple[int, ...]) -> str:
    return f"  [events {', '.join(map(str, ids))}]" if ids else ""


def card_text(card: ScoreCard, original: ScoreCard | None = None, original_name: str = "March 2023",
              outcome: str | None = None) -> str:
    """Every component, every point with its reason and evidence; the verdict against par; the
    drill's outcome in words when given ("resolved too early")."""
    verdict = "at or above par" if card.passed else "below par"
    lines = [f"Score {card.total:.1f} / 100  (par {card.par_score:g}: {verdict})"]
    if outcome is not None:
        lines.append(f"  drill outcome: {outcome_text(outcome)}")
    for cap in card.caps or ((card.cap,) if card.cap else ()):
        lines.append(f"  capped: {cap.reason}{_evidence(cap.evidence)}")
    for d in card.deductions:
        lines.append(f"  {d.points:5.1f}  {d.reason}{_evidence(d.evidence)}")
    for comp in card.components:
        lines.append(f"  {comp.title:<34} {comp.points:5.1f} / {comp.weight:<4g} {comp.rating} ({RATING_MEANING[comp.rating]})")
        for p in comp.items:
            lines.append(f"      {p.points:5.1f} / {p.max:<5g} {p.reason}{_evidence(p.evidence)}")
    lines += [f"  {line}" for line in card_words(card)]
    if card.ignored:
        lines.append(f"  {card.ignored} event(s) of kinds the scorer does not know were ignored")
    if original is not None:
        lines.append(f"The original {original_name} path scores {original.total:.1f} by the same rules.")
    return "\n".join(lines)


def card_markdown(card: ScoreCard) -> list[str]:
    """A Markdown table of the components, then each point as a bullet (reasons escaped: they quote the team)."""
    lines = [f"**{card.total:.1f} / 100** (par {card.par_score:g}: {'at or above par' if card.passed else 'below par'})", ""]
    for cap in card.caps or ((card.cap,) if card.cap else ()):
        lines += [f"Capped: {md(cap.reason)}{_evidence(cap.evidence)}", ""]
    if card.deductions:
        lines += [f"- Deducted {-d.points:g}: {md(d.reason)}{_evidence(d.evidence)}" for d in card.deductions] + [""]
    lines += ["| component | points | rating |", "|---|---:|---|"]
    lines += [f"| {md(c.title)} | {c.points:.1f} / {c.weight:g} | {c.rating} ({RATING_MEANING[c.rating]}) |" for c in card.components]
    lines.append("")
    for c in card.components:
        for p in c.items:
            lines.append(f"- {md(c.title)}: {p.points:.1f} / {p.max:g}: {md(p.reason)}{_evidence(p.evidence)}")
    lines += [f"- {md(line)}" for line in card_words(card)]
    return lines


def card_words(card: ScoreCard) -> list[str]:
    """The team's own words the vocabulary could not place, and the facilitator's verdicts on them."""
    out = [f"unmatched hypothesis '{words}' (event {eid}): accept it with `gameday score --accept {eid}` "
           f"or reject it with `--reject {eid}`" for eid, words in card.unmatched]
    out += [f"facilitator {'rejected' if verdict == 'rejected' else f'accepted as {verdict}'} the hypothesis "
            f"of event {eid}" for eid, verdict in card.judged]
    return out
