"""PRISMA 2020: the flow's counts from the store's facts (``counts``, ``flow``), the flow
diagram (``layout`` pure, ``draw`` the picture) and the PRISMA2020 R package's CSV
(``csv_template``)."""
