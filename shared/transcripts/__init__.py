"""Readable transcripts from Speech result files, streamed with bounded memory.

A result file is framed and validated one recognized phrase at a time (parse), normalised into the versioned
transcript schema (model) and rendered as JSON, text and captions (render_json, render_text, captions) as it
is parsed (onepass), or, when its phrases are not in time order, spooled to disk and sorted first (spool).
derive ties these together for the harvester, one result file at a time.
"""
