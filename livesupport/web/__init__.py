"""The web tier: the app, its pages, the HTTP API and the /ws channel.

Paths name ids with `{x:id}`: 1 to 10 digits, registered here before any route is built.
"""

from starlette.convertors import Convertor, register_url_convertor

from livesupport.domain.numbers import parse_id


class IdConvertor(Convertor[int]):
    """A database id in a path: up to 10 digits. One larger than any id becomes 0, which nothing has."""

    regex = "[0-9]{1,10}"

    def convert(self, value: str) -> int:
        return parse_id(value) or 0

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
