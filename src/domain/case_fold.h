// How name search compares text (GET /api/v1/referrals?q=, `referral list --query`):
// Unicode simple case folding, done here so that SQLite and PostgreSQL, whatever the
// server's locale, answer a search the same way.
#pragma once

#include <string>
#include <string_view>

namespace reftrack {

// `text` with every letter replaced by its simple case folding (Unicode 14
// CaseFolding.txt, statuses C and S: one code point for one, so "ß" stays "ß" and
// "STRASSE" does not fold to "straße"; "ẞ" folds to "ß", "Σ" and "ς" to "σ"). Covered:
// ASCII, Latin-1 Supplement, Latin Extended-A and -B, Greek and Coptic, Cyrillic and
// its Supplement, Armenian, Latin Extended Additional, Greek Extended; other
// letters stay as they are. Bytes that are not UTF-8 are kept as they are.
std::string FoldCase(std::string_view text);
// The same into `out`, reusing its storage (for a million names in a row).
void FoldCase(std::string_view text, std::string& out);

// The whole table as two UTF-8 strings of equal length in code points, from[i]
// folding to to[i], ASCII A-Z included: what PostgreSQL's translate() takes to fold
// the same way (the migration that fills the search column uses it).
std::string FoldTableFrom();
std::string FoldTableTo();

}  // namespace reftrack
