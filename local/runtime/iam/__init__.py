"""IAM as AWS enforces it, from the template: role policies, the calls they allow, the hook."""
