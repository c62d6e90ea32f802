"""Authoring: read the content folder, check it, render Markdown to safe HTML.

Never imports Flask: `waypost check` and `build` run without the web app.
"""
