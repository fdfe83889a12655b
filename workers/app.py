"""The service's runtime context: settings, database, collections. Actors look it up by ``current()``."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.collections import Collection, load_collections
from config.settings import Settings
from models.db import make_engine, make_session_factory


@dataclass
class App:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def collections(self) -> dict[str, Collection]:
        return load_collections(self.settings.collections_file)


_current: App | None = None


def install(app: App) -> App:
    global _current
    _current = app
    return app


def current() -> App:
    """The installed app, or one built from the environment (a worker process started by the CLI)."""
    global _current
    if _current is None:
        _current = App(Settings.from_env())
    return _current
