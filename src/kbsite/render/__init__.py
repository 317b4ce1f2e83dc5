"""Pages as HTML: article text through markdown-it-py, page objects through the Jinja2
templates. Knows the model and the page objects, never the file format."""
