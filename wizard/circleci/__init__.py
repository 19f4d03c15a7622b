"""CircleCI: the API v2 client, OIDC trust for AWS, and delivering credentials to a project.

Nothing here imports Textual or boto3 at module level; the HTTP client (httpx) is imported when a
client is built, so the CLI's ``--help`` and ``policy`` stay fast.
"""
