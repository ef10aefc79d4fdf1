"""Shared look for Dash components that Bootstrap's theme does not style (not a page)."""

# dash_table.DataTable styling matching the Darkly theme (its own CSS sets monospace on <table>, so the
# cells take the theme font explicitly rather than inheriting).
DARK_TABLE = dict(
    style_header={"backgroundColor": "#303030", "color": "#fff", "fontWeight": "bold"},
    style_cell={"backgroundColor": "#222", "color": "#ddd", "border": "1px solid #444", "textAlign": "left",
                "whiteSpace": "normal", "height": "auto", "fontSize": "0.88rem", "fontFamily": "var(--bs-body-font-family)"},
)
