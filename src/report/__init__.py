"""The regional report (HTML with inline SVG charts) rendered from the published statistics."""
