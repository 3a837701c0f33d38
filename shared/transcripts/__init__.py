"""Readable transcripts from Speech result files, streamed with bounded memory.

A result file is framed and validated one recognized phrase at a time (parse), normalised into the versioned
transcript schema (model), spooled to disk in time order (spool) and rendered as JSON, text and captions
(render_json, render_text, captions). derive ties these together for the harvester, one result file at a time.
"""
