"""Problem sets: YAML files checked against one declared schema, read into frozen values.

    load_problem_set(path)        a file → ProblemSet (ProblemSetError with file:line)
    parse_problem_set(text, path) the same from text
    for_student(problem_set, id)  one student's variant of a set with ``params:``
    SCHEMA                        every key at every level, as data (for docs and tools)
"""

from mcgrade.problemset.loader import for_student, load_problem_set, parse_problem_set
from mcgrade.problemset.schema import SCHEMA, Field, Level

__all__ = ["SCHEMA", "Field", "Level", "for_student", "load_problem_set", "parse_problem_set"]
