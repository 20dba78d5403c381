"""report.md: the postmortem draft, in the sections of the March 2023 original.

    Issue Summary · Timeline · Root Cause and Resolution · Corrective and Preventative Measures
    (then: what went wrong, the score, and the path beside the original incident)

People still write the contributing factors and lessons; the draft says where. Every piece of text
that is not the draft's own (what the team wrote, names, the scenario's words) goes through
lab.core.safe_text.markdown: it reads as text in any viewer, never as HTML, a link or a table cell.
"""

from __future__ import annotations

from lab.core.original import path_timeline
from lab.core.runbook import arguments
from lab.core.safe_text import markdown as md, markdown_code as code
from lab.core.scoring import ScoreCard, harm_of
from lab.report import facts
from lab.report.card import card_markdown
from lab.report.run import Run

SECTIONS = ("Issue Summary", "Timeline", "Root Cause and Resolution", "Corrective and Preventative Measures")


def render(run: Run, card: ScoreCard, original: ScoreCard) -> str:
    """The whole draft as Markdown text."""
    sc, tl = run.scenario, run.timeline
    imp = facts.impact(card, tl)
    started = next((e for e in tl.events if e.kind == "drill.started"), None)
    speed = started.data.get("speed", 1) if started else 1
    out = [f"# Postmortem Report: {md(sc.title)}", "",
           f"Drill {code(run.run_dir.name)} of scenario {code(sc.id)}; runbook {code(run.runbook.id)}. Times are drill time "
           f"(T+ from the drill's start{f'; the drill ran {speed:g}x compressed' if speed not in (1, 1.0) else ''}).", ""]

    out += ["## Issue Summary", ""]
    if imp.start_s is None:
        out.append("The probe never saw players affected: availability stayed within the SLO.")
    else:
        end = facts.clock(imp.end_s) if imp.end_s is not None else "the end of the drill (never recovered)"
        out.append(f"From {facts.clock(imp.start_s)} to {end} ({facts.duration((imp.end_s or imp.start_s) - imp.start_s) if imp.end_s else 'ongoing'}), "
                   f"Arcade failed for players: {imp.failed_share:.0%} of the probe's {imp.requests} requests failed in that window "
                   f"(at worst {imp.peak_share:.0%} in one second), so about {imp.failed_share:.0%} of users were affected. "
                   f"Error budget burned: {facts.duration(card.phases.budget_s)} of full outage.")
    out += ["", f"Outcome: {facts.outcome_text(facts.outcome_of(tl))}. Score {card.total:.1f} / 100 against par {card.par_score:g}.", ""]
    ending = facts.ending(tl)
    if ending:
        out += [md(ending), ""]

    out += ["## Timeline", ""]
    listed, more = facts.shown(tl)
    for e in listed:
        who = f" ({md(e.actor)})" if e.source.value == "team" else ""
        out.append(f"* {facts.clock(e.offset_s)}: {md(facts.describe(e))}{who}  `#{e.id}`")
    if more:
        out.append(f"* ... and {more} more events (see events.jsonl)")
    out.append("")

    out += ["## Root Cause and Resolution", ""]
    out.append("> " + md(sc.story.not_told) if sc.story.not_told else "> (the scenario does not state its cause)")
    out.append("")
    hyps = [e for e in tl.events if e.kind == "note" and arguments(e).get("hypothesis")]
    if hyps:
        out.append("The team's hypotheses, in order: " + "; ".join(
            f"{md(arguments(e)['hypothesis'])} at {facts.clock(e.offset_s)}" for e in hyps) + ".")
    if card.phases.diagnosis_s is not None:
        out.append(f"The correct diagnosis, backed by evidence, was written down at {facts.clock(card.phases.diagnosis_s)}.")
    else:
        out.append("No correct diagnosis backed by evidence was written down.")
    fixes = facts.mitigations(card, run.runbook, tl)
    if fixes:
        out.append("The issue was resolved by: " + "; ".join(f"{md(facts.describe(e))} at {facts.clock(e.offset_s)}" for e in fixes) + ".")
    else:
        out.append("None of the runbook's mitigations was applied.")
    out += ["", "_To write by hand: contributing factors, and why the cause was possible._", ""]

    out += ["## Corrective and Preventative Measures", "",
            "After the drill, these measures are proposed (runbook follow-ups, then the team's `TODO:` notes):"]
    out += [f"* {item}" for item in run.runbook.followups]
    out += [f"* {md(item)} (team note)" for item in facts.todos(tl)]
    out += ["", "_To decide by hand: owners and priorities._", ""]

    wrong = [f"* Red herring {md(name)}: {md(harm_of(run.runbook, name))}  `#{eid}`"
             for name, eid in card.herrings]
    adherence = card.component("adherence")
    wrong += [f"* {md(p.reason)}" for p in adherence.items[1:] if p.points < p.max and p.reason]
    out += ["## What went wrong (candidates)", ""] + (wrong or ["* Nothing the scorer can see."]) + [""]

    out += ["## Score", ""] + card_markdown(card) + [""]

    out += [f"## Beside the original incident ({run.original.incident})", "",
            "| since the first alert | this drill | original |", "|---|---|---|"]
    out += [f"| {r.milestone} | {facts.duration(r.drill_s) if r.drill_s is not None else 'never'} | "
            f"{facts.duration(r.original_s) if r.original_s is not None else 'never'} |" for r in facts.comparison(card, original)]
    out += [f"| error budget burned | {facts.duration(card.phases.budget_s)} | {facts.duration(original.phases.budget_s)} |",
            f"| score | {card.total:.1f} | {original.total:.1f} |", ""]
    out += ["The original path, as its postmortem tells it (minutes since the first alert):", ""]
    out += [f"* {e.offset_s / 60:.0f} min: {md(facts.describe(e))}" for e in path_timeline(run.original).events]
    out.append("")
    return "\n".join(out)
