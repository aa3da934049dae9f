"""Reports: PDF (and JSON) documents built in the background by Celery workers.

services.py   ask for a report, build it, retry it, recover reports whose worker died
rendering.py  the lens review report and the consolidated report as PDF (WeasyPrint)
consolidated.py  the numbers of the consolidated report, in a constant number of queries
"""
