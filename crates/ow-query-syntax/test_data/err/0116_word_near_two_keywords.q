# expect: Q203 1 ass
stats count(*) ass n by eventName
