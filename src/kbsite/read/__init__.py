"""Reading the archive: finding files, decoding their bytes, parsing the KB plaintext
format into the typed model (``kbsite.model``). Every quirk of the format lives here;
nothing here knows of HTML."""
