"""The report: leaderboard tables, figures and checks, built from the rows of ``results.csv``.

Modules along the data flow (each imports only those listed before it):

* :mod:`~gcbench.report.rows`: the one reader of a results folder and the normalisation of its rows;
* :mod:`~gcbench.report.aggregate`: mean ± std per cell, methods x ratios and cross-architecture tables;
* :mod:`~gcbench.report.render`: the one Markdown table and CSV writer, and the tables rendered with it
  (leaderboard, cross-architecture, NAS, console);
* :mod:`~gcbench.report.study`: the SR-GM study report (``study.md``);
* :mod:`~gcbench.report.figure_kinds` and :mod:`~gcbench.report.figures`: the plot gallery;
* :mod:`~gcbench.report.compare`: a fresh run against the committed rows (``--check --against``);
* :mod:`~gcbench.report.folder`: a leaderboard folder's files: write, publish, check.

Every table here is a pure function of the *set* of result rows: the same rows in any order give the
same tables and byte-identical files. To get there the rows are normalised and put into a canonical order
before anything is aggregated, sums are exact (:func:`math.fsum`), and all numbers are written with fixed
precision.

Conventions (shared by every rendering):

* Scores are ``test_score`` in percent (x100), ``mean ± std`` over the seeds of ``status == "ok"`` rows.
  ``std`` is the sample standard deviation (ddof=1); a cell with a single seed has ``std = 0.00`` (shown as
  ``± 0.00``) and its seed count is visible in ``n_seeds`` and, where other cells have more seeds, as an
  ``(n=1)`` marker. Each seed is its own condensation *and* evaluation, so the std is the spread across
  condensation+evaluation seeds.
* Only ok rows enter means. Rows with any other status are *failed*; they are counted and listed
  separately (``README.md``, :func:`~gcbench.report.aggregate.summary`'s ``n_failed``).
* One run per (dataset, arch, method, ratio, seed): if that key appears several times (a rerun appended to
  the same ``results.csv``), only rows with the ``config_hash`` of its latest row count (a rerun after a
  change of code or settings supersedes the old configuration), among them an ok row wins over failed ones
  and, among rows of the same kind, the one with the latest ``timestamp`` wins (remaining ties are broken
  by a canonical order of the row values). The other rows are *superseded*: ignored, and only counted in
  ``README.md``.
* One configuration per cell: if the runs kept for a (dataset, arch, method, ratio) cell carry different
  ``config_hash`` values (seeds computed with different code or settings under one label), the rows are
  refused with an error naming the cell (:func:`~gcbench.report.rows.hash_conflicts`; ``--check`` reports it
  as a problem) instead of being averaged into one number.
* ``whole`` (training on the full graph) is the reference: its ``ratio`` is ignored, its score sits in a
  separate ``full graph`` column, it is always the last row and it is never bolded/starred as best.
* Other methods are sorted in *natural order*: case-insensitive, with runs of digits (incl. decimals)
  compared as numbers, so ``srgm:lambda=2`` comes before ``srgm:lambda=10``. Datasets use the same order;
  architectures use the order ``mlp, gcn, sgc, sage, gat, cheb, appnp`` followed by any others (natural
  order). Ratio columns are sorted ascending.
* The best cell of a ratio column is the highest mean *as displayed* (rounded to the shown decimals), so
  ties in the table are all marked.
"""
