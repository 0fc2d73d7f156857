"""Word lists the person recognizer leans on: a name gazetteer and ordinary English words.

The gazetteer is Faker's en_US person provider (about 700 first names and the 1,000 most common
US surnames) plus the person providers of Faker's other Latin-script locales (British, Irish,
Indian, Nigerian, German, French, Spanish, Polish, Turkish, ... names), its generic English
list (about 6,800 first names) and the romanised Japanese and Chinese lists: maintained lists
that ship with a package we already depend on. "Ordinary
words" are what a gazetteer name must NOT be mistaken for without context: Faker's en_US lorem
word list (about 1,000 common English words), spaCy's English stop words, months, weekdays, and
a short list of first names / surnames that are everyday words ("Will", "May", "Grant", "Bill").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MONTHS_AND_DAYS = _words(
    """
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
    """
)

# Names that are also everyday words (Faker's lists contain many of them).
AMBIGUOUS_NAMES = _words(
    """
    will may grant bill mark rose june april august hope faith joy chase frank art pat sue rich
    dawn grace hunter carol ray summer autumn winter crystal ruby pearl iris lily holly ivy
    amber penny sandy rusty drew gale glen lane reed ward wade miles max page sunny sage king
    brown white black green gray grey long young little hill wood woods price rice bell hall
    park best case day love major chance christian dale forest guy jack jean kit lance norman
    royal sky star sterling tanner walker cook baker carpenter miller porter potter fisher
    hunt hope mercy destiny harmony melody trinity faith justice noble early fair strong good
    rock stone field fields marsh moss bush cash gold silver cross church west north south east
    wall house key glass ball short small rich long free lee may bond banks brooks rivers
    lake river storm sharp swift wise hart heart power powers street bishop dean judge knight
    mason chapman wells spring summers winters weeks holiday christmas easter
    said don edit meta server fancy amor finna olive prime muslim brit karma else per job
    man hand gay can dan bob ben van del will won wan ask told even ever via hear sale
    prince princess duke duchess queen lord lady baron baroness count countess earl
    unique victory serenity chastity essence genesis lyric echo diamond ivory cherry orange
    dove lark starling willow martial patience prudence
    """
)

# Words after "Dear", "Hi", "Thanks," etc. that address a group or role, not a person.
GENERIC_ADDRESSEES = _words(
    """
    team all everyone everybody committee board staff members member colleagues friends folks
    sir sirs madam madame mesdames there support membership services service customer office
    admin administrator administrators organizers organisers organizing organising planning
    events event council leadership directors director manager managers chair chairs president
    hiring recruiter guys you again so very much for in advance association chapter chapters
    colleague friend team's department dept registration conference program programs
    """
)


# Capitalised words that follow a first name without being a surname ("Dana Conference" is
# not a person): association vocabulary, organisation words, US states.
NOT_SURNAMES = _words(
    """
    conference summit chapter chapters center centre program programme programs academy
    foundation association society institute university college school hospital clinic
    services service committee council board office department team group network forum
    workshop webinar series session sessions seminar symposium expo gala dinner reception
    meeting meetings convention award awards fellowship scholarship certification course
    courses track panel keynote journal magazine newsletter portal website app online
    community directory library day week month year street avenue road park hall plaza
    county city state north south east west northeast northwest southeast southwest
    midwest pacific atlantic central regional national international annual spring fall
    autumn winter summer member members membership staff inc llc ltd corp co company
    alabama alaska arizona arkansas california colorado connecticut delaware florida
    georgia hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland
    massachusetts michigan minnesota mississippi missouri montana nebraska nevada
    hampshire jersey mexico york carolina dakota ohio oklahoma oregon pennsylvania rhode
    island tennessee texas utah vermont virginia washington wisconsin wyoming
    """
)

# Faker person providers whose names are written in Latin script: the gazetteer's names of
# people from outside the US (members and the people they write about are not all American).
EXTRA_LOCALES = (
    "en_GB", "en_IE", "en_IN", "en_NZ", "en_KE", "en_NG", "en_PK", "de_DE", "de_AT", "de_CH",
    "fr_FR", "fr_CA", "es_ES", "es_MX", "es_AR", "es_CO", "it_IT", "pt_BR", "pt_PT", "nl_NL",
    "nl_BE", "sv_SE", "da_DK", "no_NO", "fi_FI", "is_IS", "pl_PL", "cs_CZ", "sk_SK", "sl_SI",
    "hr_HR", "hu_HU", "ro_RO", "et_EE", "lt_LT", "lv_LV", "tr_TR", "id_ID", "az_AZ", "uz_UZ",
    "sw", "zu_ZA", "yo_NG", "ig_NG", "ha_NG", "tw_GH", "ga_IE", "vi_VN",
    # Faker's generic English list (about 6,800 first names, many absent from en_US's 700),
    # and more Latin-script locales
    "en", "en_TH", "de_LI", "de_LU", "es_CL", "es_CA", "fr_BE", "fr_CH", "fr_DZ", "fr_QC",
)  # fmt: skip
# Locales whose names are written in another script, with a romanised list beside them
ROMANISED_LOCALES = ("ja_JP", "zh_CN", "zh_TW")


@dataclass(frozen=True)
class Gazetteer:
    first: frozenset[str]
    last: frozenset[str]


def _latin(name: str) -> bool:
    return all(c.isalpha() and ord(c) < 0x250 for c in name)


def _names(provider: type, prefix: str) -> set[str]:
    out: set[str] = set()
    for attr in dir(provider):
        if not attr.startswith(prefix):
            continue
        values = getattr(provider, attr)
        if isinstance(values, dict):
            values = list(values)
        if not isinstance(values, list | tuple):
            continue
        for value in values:
            for part in str(value).replace("-", " ").split():
                part = part.casefold().strip(".'")
                if len(part) >= 2 and _latin(part):
                    out.add(part)
    return out


@functools.cache
def gazetteer() -> Gazetteer:
    """First names and surnames: Faker's en_US lists plus its other Latin-script locales."""
    import importlib

    from faker.providers.person.en_US import Provider

    first = {
        *Provider.first_names_male,
        *Provider.first_names_female,
        *getattr(Provider, "first_names_nonbinary", ()),
    }
    first_set = {n.casefold() for n in first}
    last_set = {n.casefold() for n in Provider.last_names}
    for locale in EXTRA_LOCALES:
        try:
            module = importlib.import_module(f"faker.providers.person.{locale}")
        except ImportError:  # a Faker version without this locale
            continue
        first_set |= _names(module.Provider, "first_name")
        last_set |= _names(module.Provider, "last_name")
    for locale in ROMANISED_LOCALES:
        try:
            module = importlib.import_module(f"faker.providers.person.{locale}")
        except ImportError:
            continue
        first_set |= _names(module.Provider, "first_romanized")
        last_set |= _names(module.Provider, "last_romanized")
    return Gazetteer(first=frozenset(first_set), last=frozenset(last_set))


# Words that label a field or line in forms and e-mail headers ("Date:", "Subject:"), and
# nationalities / languages, which are capitalised without being names.
FORM_LABELS = _words(
    """
    date subject re fw fwd note notes address phone email mail name names time title website
    web company organization organisation job position status comments comment question answer
    user bot agent customer caller summary description details reason category priority
    """
)
NATIONALITIES = _words(
    """
    american british english french german spanish italian portuguese dutch danish swedish
    norwegian finnish icelandic polish czech slovak hungarian romanian bulgarian greek turkish
    russian ukrainian irish scottish welsh canadian mexican brazilian argentinian chinese
    japanese korean indian pakistani vietnamese thai filipino indonesian african nigerian
    kenyan egyptian australian european asian latino hispanic jewish muslim christian catholic
    arab arabic hebrew hindi mandarin cantonese swiss austrian belgian croatian serbian
    slovenian estonian latvian lithuanian cypriot israeli iranian persian
    """
)


def _english_word_file() -> frozenset[str]:
    from pathlib import Path

    path = Path(__file__).with_name("english_words.txt")
    if not path.exists():  # a packaging mistake: fewer ordinary words, never an error
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))


def _vader_words() -> frozenset[str]:
    try:
        from importlib import resources

        text = (resources.files("vaderSentiment") / "vader_lexicon.txt").read_text(
            encoding="utf-8", errors="replace"
        )
    except (ImportError, FileNotFoundError, OSError):
        return frozenset()
    words = (line.split("\t", 1)[0] for line in text.splitlines())
    return frozenset(w for w in words if w.isalpha() and w.islower() and len(w) >= 2)


@functools.cache
def _countries() -> frozenset[str]:
    from faker.providers.address.en_US import Provider as Address

    return frozenset(c.casefold() for c in Address.countries if c.isalpha())  # one word only


@functools.cache
def ordinary_words() -> frozenset[str]:
    """Words a gazetteer name must not be mistaken for without a context: Faker's lorem list,
    spaCy's stop words, months and days, ambiguous names, form labels, nationalities, country
    names that are not US first names, VADER's lexicon and `english_words.txt` (common lowercase
    words of informal English text)."""
    from faker.providers.lorem.en_US import Provider as Lorem
    from faker.providers.person.en_US import Provider as Person
    from spacy.lang.en.stop_words import STOP_WORDS

    us_first = {n.casefold() for n in (*Person.first_names_male, *Person.first_names_female)}
    return frozenset(
        {w.casefold() for w in Lorem.word_list}
        | {w.casefold() for w in STOP_WORDS}
        | MONTHS_AND_DAYS
        | AMBIGUOUS_NAMES
        | FORM_LABELS
        | NATIONALITIES
        | (_countries() - us_first)
        | (_vader_words() - us_first)
        | (_english_word_file() - us_first)
    )


# Endings that mark a token as a surname in many languages ("Musliyevich", "Tomaszewski",
# "Sigmundsdottir", "Miletic"); used only with other evidence (a context, a second token).
NAME_ENDINGS = (
    "ov", "ova", "ev", "eva", "ski", "ska", "sky", "cki", "cka", "sson", "dottir", "d\u00f3ttir",
    "ic", "i\u0107", "vich", "vych", "enko", "escu", "oglu", "o\u011flu", "yan", "idze",
    "shvili", "ov\u00e1", "ovna", "evna", "moto", "yama", "kawa", "mura", "hashi", "zadeh",
    "hara", "wara", "saki", "zaki", "shita", "gawa", "guchi", "naga", "shima", "jima",
)  # fmt: skip


@functools.cache
def stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(w.casefold() for w in STOP_WORDS)
