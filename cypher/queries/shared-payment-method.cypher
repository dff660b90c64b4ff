// title: Accounts sharing a payment method with an account
// description: Every other account that used any payment method of the given account, with the shared methods.
// param: account = "acc_0000310"
// tags: payment, pivot
MATCH (a:Account {account_id: $account})-[:HAS_IDENTIFIER]->(pm:PaymentMethod)<-[:HAS_IDENTIFIER]-(other:Account)
WHERE other <> a
RETURN other.account_id AS account, other.org AS org, other.created_at AS created_at,
       collect(DISTINCT pm.value) AS shared_payment_methods
ORDER BY size(shared_payment_methods) DESC, account
LIMIT 500
