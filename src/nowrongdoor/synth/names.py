"""Name pools for synthetic youth (common given names and surnames, no real person), and
the typing errors records carry."""

import random

GIRLS = (
    "Destiny Jasmine Aaliyah Maria Sofia Isabella Emily Ashley Brianna Jessica Vanessa Alexis "
    "Kayla Daniela Angelica Diamond Mariah Tiana Crystal Jocelyn Leslie Stephanie Samantha Nevaeh "
    "Imani Genesis Ximena Valeria Hannah Madison Chloe Trinity Paris Unique Aliyah Nadia Lupita"
).split()
BOYS = (
    "Jose Daniel Anthony Christopher Jayden Michael Angel David Joshua Isaiah Elijah Jordan "
    "Marcus Andre Diego Luis Carlos Kevin Brandon Tyler Malik Jamal Xavier Adrian Ethan Noah "
    "Darius Terrell Miguel Juan Jesus Oscar Devon Cameron Trevon DeShawn Mateo"
).split()
SURNAMES = (
    "Smith Johnson Williams Brown Jones Garcia Martinez Rodriguez Hernandez Lopez Gonzalez Perez "
    "Sanchez Ramirez Torres Flores Rivera Gomez Diaz Jackson Washington Harris Thompson Robinson "
    "Lewis Walker Young Allen King Wright Nguyen Tran Le Pham Kim Lee Chen Wong Reyes Cruz Morales "
    "Ortiz Gutierrez Chavez Ramos Ruiz Alvarez Mendoza Castillo Jimenez Moreno Romero Herrera Medina"
).split()
NICKNAMES = {
    "Destiny": "Dee", "Jasmine": "Jazz", "Aaliyah": "Liyah", "Isabella": "Bella", "Alexis": "Lexi",
    "Brianna": "Bri", "Jessica": "Jess", "Samantha": "Sam", "Stephanie": "Steph", "Vanessa": "Nessa",
    "Angelica": "Angie", "Daniela": "Dani", "Madison": "Maddie", "Christopher": "Chris",
    "Anthony": "Tony", "Michael": "Mike", "Daniel": "Danny", "Joshua": "Josh", "Jose": "Pepe",
    "Marcus": "Marc", "Brandon": "Bran", "Adrian": "Adri", "Cameron": "Cam", "Jesus": "Chuy",
    "Elijah": "Eli", "Xavier": "X", "Terrell": "Rell", "DeShawn": "Shawn", "Miguel": "Mikey",
}
STREET_NAMES = "Candy Cherry Diamond Star Honey Baby Kitty Sky Lady Roxy Ice Blue Slim Kash Tiny".split()


def typo(rng: random.Random, name: str) -> str:
    """One typing error: two letters swapped, one dropped or one replaced."""
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.random()
    if kind < 0.4:
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    if kind < 0.7:
        return name[:i] + name[i + 1:]
    return name[:i] + rng.choice("aeinorst") + name[i + 1:]
