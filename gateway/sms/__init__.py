"""SMS text arithmetic: segments and encodings, trimming, transliteration, and the opt-out keywords."""
