"""Authoring: what instructors run before students see a problem set.

    validate   every answer key, mistake, domain and variant checked (``mcgrade validate``)
    notebook   the starter notebook students answer in (``mcgrade notebook``)
    publish    the student copy: local checks without the answers (``mcgrade publish``)
    local      grading against a student copy's checks (used by ``mcgrade.grading``)
    digest     how those checks hold values without revealing them
    guide      the authoring reference (docs/authoring.md), generated from the schema

Import the submodules themselves: this package imports nothing, so that the grader can use
``local`` without loading the authoring tools.
"""
