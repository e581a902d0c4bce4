# The image a Kubernetes sweep runs (prsim sweep <scenario> --emit k8s --image ...): Node and this package, with
# prsim on the PATH. Built from the packed package, so the image holds exactly what npm would install:
#   npm run build && npm pack && docker build -t REGISTRY/prsim:0.1.0 . && docker push REGISTRY/prsim:0.1.0
FROM node:20-bookworm-slim
COPY page-reporting-sim-*.tgz /tmp/
RUN npm install -g /tmp/page-reporting-sim-*.tgz && rm /tmp/page-reporting-sim-*.tgz
CMD ["prsim", "--help"]
