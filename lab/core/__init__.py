"""The lab's pure core: no sockets, files, processes, clocks or environment.

Scenario parsing, the fault schedule, runbook matching, scoring and the timeline model live
here; they take time and content as data and are tested without any I/O.
"""
