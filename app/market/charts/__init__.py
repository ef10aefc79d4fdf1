"""The trader's chart: what a chart shows (``layouts``), the study values it draws (``studies``), the
user's marks on it (``marks``) and where a user's layout is kept (``store``)."""
