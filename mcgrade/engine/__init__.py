"""The checking engine: is an answer equivalent to the reference, and if not, what is wrong.

One pipeline (``equivalence``) over a reference that holds values (``reference``, for a full
problem set) or digests of them (``student_copy``, for a published student copy); the words
a student reads are all in ``feedback``. Nothing here knows about sandboxes, points or
reports: ``mcgrade.grading`` turns outcomes into verdicts.
"""
