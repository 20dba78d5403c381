"""Reports of a drill: the score card, the postmortem draft (Markdown) and the HTML report with charts."""
