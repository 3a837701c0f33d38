"""Locales the emulated resource accepts: what GET /transcriptions/locales lists and what create validates."""

from __future__ import annotations

SUBMIT_LOCALES: tuple[str, ...] = (
    "ar-AE", "ar-EG", "ar-SA", "bg-BG", "ca-ES", "cs-CZ", "da-DK", "de-AT", "de-CH", "de-DE", "el-GR",
    "en-AU", "en-CA", "en-GB", "en-HK", "en-IE", "en-IN", "en-NZ", "en-PH", "en-SG", "en-US", "en-ZA",
    "es-AR", "es-ES", "es-MX", "es-US", "et-EE", "fi-FI", "fr-BE", "fr-CA", "fr-CH", "fr-FR", "ga-IE",
    "he-IL", "hi-IN", "hr-HR", "hu-HU", "id-ID", "it-IT", "ja-JP", "ko-KR", "lt-LT", "lv-LV", "nb-NO",
    "nl-BE", "nl-NL", "pl-PL", "pt-BR", "pt-PT", "ro-RO", "ru-RU", "sk-SK", "sl-SI", "sv-SE", "th-TH",
    "tr-TR", "uk-UA", "vi-VN", "zh-CN", "zh-HK", "zh-TW",
)  # fmt: skip

# Fast transcription (2024-11-15+) supports fewer locales than batch submission.
TRANSCRIBE_LOCALES: tuple[str, ...] = (
    "de-DE", "en-AU", "en-CA", "en-GB", "en-IN", "en-US", "es-ES", "es-MX", "fr-CA", "fr-FR", "hi-IN",
    "it-IT", "ja-JP", "ko-KR", "pt-BR", "zh-CN",
)  # fmt: skip

_BY_LOWER = {locale.lower(): locale for locale in SUBMIT_LOCALES}


def canonical_locale(locale: str) -> str | None:
    """The supported spelling of `locale` (matching ignores case), or None when it is not supported."""
    return _BY_LOWER.get(locale.lower())
