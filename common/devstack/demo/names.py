"""The words a generated catalogue is made of (`ticketing demo`'s and the search benchmark's): 40
cities (many spelt with accents) with their time zones, people's names from a dozen languages,
band and team names, venues, plays. Only data and small makers."""

from __future__ import annotations

import random

CITIES: tuple[tuple[str, str], ...] = (
    ("Zürich", "CH"), ("Genève", "CH"), ("Montréal", "CA"), ("Québec", "CA"), ("Toronto", "CA"),
    ("São Paulo", "BR"), ("Bogotá", "CO"), ("Ciudad de México", "MX"), ("Reykjavík", "IS"),
    ("Kraków", "PL"), ("Łódź", "PL"), ("Malmö", "SE"), ("Göteborg", "SE"), ("København", "DK"),
    ("Düsseldorf", "DE"), ("Köln", "DE"), ("München", "DE"), ("Berlin", "DE"), ("Wien", "AT"),
    ("Paris", "FR"), ("Lyon", "FR"), ("Nîmes", "FR"), ("Marseille", "FR"), ("London", "GB"),
    ("Manchester", "GB"), ("Dublin", "IE"), ("Amsterdam", "NL"), ("Rotterdam", "NL"),
    ("Liège", "BE"), ("Lisboa", "PT"), ("Porto", "PT"), ("Madrid", "ES"), ("Barcelona", "ES"),
    ("Málaga", "ES"), ("Milano", "IT"), ("Napoli", "IT"), ("Praha", "CZ"), ("Plzeň", "CZ"),
    ("New York", "US"), ("Chicago", "US"),
)  # fmt: skip

# Each city's IANA time zone: an event's local times are in its venue's.
TIME_ZONES: dict[str, str] = {
    "Zürich": "Europe/Zurich", "Genève": "Europe/Zurich", "Montréal": "America/Toronto",
    "Québec": "America/Toronto", "Toronto": "America/Toronto", "São Paulo": "America/Sao_Paulo",
    "Bogotá": "America/Bogota", "Ciudad de México": "America/Mexico_City",
    "Reykjavík": "Atlantic/Reykjavik", "Kraków": "Europe/Warsaw", "Łódź": "Europe/Warsaw",
    "Malmö": "Europe/Stockholm", "Göteborg": "Europe/Stockholm", "København": "Europe/Copenhagen",
    "Düsseldorf": "Europe/Berlin", "Köln": "Europe/Berlin", "München": "Europe/Berlin",
    "Berlin": "Europe/Berlin", "Wien": "Europe/Vienna", "Paris": "Europe/Paris",
    "Lyon": "Europe/Paris", "Nîmes": "Europe/Paris", "Marseille": "Europe/Paris",
    "London": "Europe/London", "Manchester": "Europe/London", "Dublin": "Europe/Dublin",
    "Amsterdam": "Europe/Amsterdam", "Rotterdam": "Europe/Amsterdam", "Liège": "Europe/Brussels",
    "Lisboa": "Europe/Lisbon", "Porto": "Europe/Lisbon", "Madrid": "Europe/Madrid",
    "Barcelona": "Europe/Madrid", "Málaga": "Europe/Madrid", "Milano": "Europe/Rome",
    "Napoli": "Europe/Rome", "Praha": "Europe/Prague", "Plzeň": "Europe/Prague",
    "New York": "America/New_York", "Chicago": "America/Chicago",
}  # fmt: skip

CATEGORY_SHARES = (
    ("CONCERT", 0.5),
    ("SPORTS", 0.15),
    ("THEATRE", 0.15),
    ("COMEDY", 0.1),
    ("FESTIVAL", 0.1),
)

FIRST_NAMES = (
    "José", "Zoë", "Renée", "Björn", "Søren", "Łukasz", "Chloé", "Inès", "Maëlle", "Jürgen",
    "Ágnes", "Noémie", "Raphaël", "Françoise", "Mía", "Sinéad", "Niamh", "Ólafur", "Dvořák",
    "Anna", "Marco", "Laura", "David", "Sofia", "Lucas", "Emma", "Liam", "Olivia", "Noah",
    "Amélie", "Joël", "Beyoncé", "Rosalía", "Céline", "André", "Jörg", "Ève", "Ségolène",
    "Tomás", "Sebastián", "Miłosz", "Agnieszka", "Kateřina", "Håkon", "Åsa", "Maja", "Luca",
)  # fmt: skip

LAST_NAMES = (
    "Müller", "García", "Núñez", "Dubois", "Lefèvre", "Kowalski", "Nowák", "Svensson",
    "Jørgensen", "Hernández", "O'Brien", "Smith", "Rossi", "Bianchi", "Ferreira", "Gonçalves",
    "Pérez", "Martín", "Åberg", "Łęcki", "Øster", "Schäfer", "Brontë", "Dvořáková", "Novak",
    "Kuznetsov", "Hansen", "Johansson", "Becker", "Moreau", "Girard", "Fernández", "Costa",
    "Santos", "Murphy", "Kelly", "Walsh", "Byrne", "Mendes", "Lindqvist", "Sánchez",
)  # fmt: skip

BAND_ADJECTIVES = (
    "Arctic", "Electric", "Velvet", "Neon", "Silver", "Crimson", "Wild", "Midnight", "Golden",
    "Hollow", "Frozen", "Burning", "Lunar", "Solar", "Quiet", "Loud", "Little", "Big", "Royal",
    "Savage", "Brave", "Broken", "Cosmic", "Desert", "Northern", "Southern", "Blue", "Black",
)  # fmt: skip

BAND_NOUNS = (
    "Monkeys", "Foxes", "Wolves", "Tigers", "Ravens", "Kings", "Queens", "Ghosts", "Pilots",
    "Sailors", "Dreamers", "Strangers", "Rivers", "Mountains", "Machines", "Lights", "Hearts",
    "Keys", "Waves", "Engines", "Satellites", "Drifters", "Orchestra", "Collective", "Quartet",
)  # fmt: skip

TEAM_MASCOTS = (
    "United", "City", "Rovers", "Lions", "Eagles", "Bears", "Sharks", "Rangers", "Athletic",
    "Dragons", "Falcons", "Warriors", "Titans", "Giants", "Wanderers",
)  # fmt: skip

# Venue names in the language of their country (no "Palais des Sports Chicago"), and a few that
# every country has.
VENUE_PATTERNS_EVERYWHERE = (
    "{city} Arena", "{word} Hall", "Club {word}", "Olympia {city}", "Forum {city}",
)  # fmt: skip
VENUE_PATTERNS_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": ("{city} Music Hall", "{word} Ballroom", "{last} Stadium", "{last} Theatre"),
    "fr": ("Palais des Sports de {city}", "Théâtre du {word}", "Stade {last}", "Opéra de {city}",
           "Salle {last}"),
    "de": ("Hallenstadion {city}", "Konzerthaus {city}", "Stadion {last}", "{last}-Halle",
           "Oper {city}"),
    "es": ("Estadio {last}", "Teatro {last}", "Palacio de los Deportes de {city}",
           "Sala {word}"),
    "it": ("Teatro {last}", "Stadio {last}", "Palazzo dello Sport {city}"),
    "pt": ("Estádio {last}", "Teatro {last}", "Coliseu de {city}"),
    "nl": ("Concertgebouw {city}", "Stadion {last}", "Theater {last}"),
    "nordic": ("{city} Konserthus", "{last} Arena", "Teater {last}"),
    "cs": ("Divadlo {last}", "Stadion {last}", "Sportovní hala {city}"),
    "pl": ("Hala {last}", "Teatr {last}", "Stadion {last}"),
}  # fmt: skip
LANGUAGE_OF_COUNTRY = {
    "CH": "de", "CA": "en", "BR": "pt", "CO": "es", "MX": "es", "IS": "nordic", "PL": "pl",
    "SE": "nordic", "DK": "nordic", "DE": "de", "AT": "de", "FR": "fr", "GB": "en", "IE": "en",
    "NL": "nl", "BE": "fr", "PT": "pt", "ES": "es", "IT": "it", "CZ": "cs", "US": "en",
}  # fmt: skip
# Cities whose language is not their country's first.
LANGUAGE_OF_CITY = {"Genève": "fr", "Montréal": "fr", "Québec": "fr"}

VENUE_WORDS = (
    "Châtelet", "Rivoli", "Lumière", "Phénix", "Mirabeau", "Paradiso", "Fabrik", "Kulturhaus",
    "Bataclan", "Cigale", "Élysée", "Orpheum", "Apollo", "Roxy", "Fillmore", "Trianon",
)  # fmt: skip

PLAYS = (
    "Hamlet", "Les Misérables", "Cyrano de Bergerac", "Le Malade imaginaire", "Don Giovanni",
    "La Traviata", "Carmen", "Swan Lake", "The Nutcracker", "Macbeth", "Faust", "Tosca",
    "A Midsummer Night's Dream", "Die Zauberflöte", "Peer Gynt", "Romeo and Juliet", "Cats",
    "Les Liaisons dangereuses", "Chicago", "Wicked", "The Phantom of the Opera", "Mamma Mia!",
    "Hair", "Ubu Roi",
)  # fmt: skip

COMEDY_SHOWS = (
    "Live", "Unfiltered", "Stand-up Special", "Late Show", "Work in Progress", "Encore",
    "World Tour", "One Night Only", "Improv Night",
)  # fmt: skip

FESTIVAL_WORDS = ("Jazz", "Rock", "Summer", "Winter", "Open Air", "Électro", "Folk", "Indie")

TOUR_WORDS = (
    "Renaissance", "Eras", "World", "Farewell", "Reunion", "Homecoming", "Midnight", "Mañana",
    "Éclat", "Nordlys", "Sommar", "Acoustic", "Unplugged",
)  # fmt: skip


def band_name(rng: random.Random) -> str:
    return f"{rng.choice(('The ', '', ''))}{rng.choice(BAND_ADJECTIVES)} {rng.choice(BAND_NOUNS)}"


def team_name(rng: random.Random, city: str) -> str:
    return f"FC {city}" if rng.random() < 0.3 else f"{city} {rng.choice(TEAM_MASCOTS)}"


def venue_names(rng: random.Random, city: str, country: str, count: int) -> list[str]:
    language = LANGUAGE_OF_CITY.get(city) or LANGUAGE_OF_COUNTRY.get(country, "en")
    patterns = (*VENUE_PATTERNS_EVERYWHERE, *VENUE_PATTERNS_BY_LANGUAGE[language])
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(patterns).format(
            city=city, word=rng.choice(VENUE_WORDS), last=rng.choice(LAST_NAMES)
        )
        if name not in names:
            names.append(name)
    return names
