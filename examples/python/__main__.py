"""A logging stack for an application, from a Python program.

`pulumi package add ../../plugin` (or the repository's git URL followed by `.git/plugin@v<version>`) generates the
`pulumi_elk` SDK from the plugin's schema; the arguments are the stack config keys in snake_case.
"""

import pulumi
import pulumi_elk as elk

config = pulumi.Config()

logs = elk.ElkStack(
    "logs",
    target="docker",
    cluster_name="logs",
    kibana_port=5601,
    log_retention_days=14,
    log_sources=[
        elk.LogSourceArgs(kind="nginx", name="web"),
        elk.LogSourceArgs(kind="django", name="api", port=5141),
    ],
    # Left out, it is generated and kept as a secret in this stack's state.
    elastic_password=config.get_secret("elasticPassword"),
)

pulumi.export("kibanaUrl", logs.kibana_url)
pulumi.export("logstashEndpoints", logs.logstash_endpoints)
pulumi.export("caCertificate", logs.ca_cert_pem)
pulumi.export("elasticPassword", logs.elastic_password)
