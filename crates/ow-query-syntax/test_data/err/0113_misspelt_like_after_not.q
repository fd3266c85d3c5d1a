# expect: Q203 1 lik
filter eventName not lik 'Get'
