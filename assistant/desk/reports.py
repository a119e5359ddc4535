"""Reports (`desk.reports`): what staff learn from the records, as views: knowledge gaps and the figures."""

from sqlalchemy.orm import Session, sessionmaker

from assistant.desk import insights
from assistant.desk.views import Figures, Gap
from assistant.engine import Embedder

WEEKS_SHOWN = 12  # the figures page's chart: a quarter, week by week


class Reports:
    def __init__(self, sessions: sessionmaker[Session], embedder: Embedder) -> None:
        self.sessions, self.embedder = sessions, embedder

    def knowledge_gaps(self, days: int = 90) -> list[Gap]:
        """Topics the documents fail to answer (questions abstained on or rated down), most asked first."""
        return insights.knowledge_gaps(self.sessions, self.embedder, days)

    def figures(self, days: int = 30) -> Figures:
        """Volume, response times and SLA, partners' widget use over `days`; enquiries by category per week over
        the last `WEEKS_SHOWN` weeks."""
        return insights.figures(self.sessions, days, WEEKS_SHOWN)
