# mcaspec/reference: the reference target, configured by the target contract's environment
# (docs/TARGET-CONTRACT.md): PORT, MCA_SERVER_URL, MCA_APP_ID, ... Host networking only.
#   docker run --rm --network host -e PORT=8081 -e MCA_SERVER_URL=http://127.0.0.1:9080/imf-authserver \
#     -e MCA_APP_ID=<appId> mcaspec/reference:dev
ARG BASE=mcaspec/mcaspec:dev
FROM ${BASE}
CMD ["reference"]
